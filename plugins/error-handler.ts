import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { errors, fieldErrorKeyword, withRetryAfter, type ApiError, type ErrorCode, type FieldErrorCodes } from '../src/errors.js'
import type { ErrorResponse } from '../schemas/common.js'
import { StateStoreUnavailableError } from '../src/state/state-store.js'
import { logAnsweredErrorCode } from '../src/logger.js'

// Ajv runs with `verbose`, so each issue carries the schema that failed: the field's own schema for
// a broken value, the object's for a missing property.
type FieldSchema = { [fieldErrorKeyword]?: FieldErrorCodes, properties?: Record<string, FieldSchema> }
type ValidationIssue = FastifySchemaValidationError & { parentSchema?: FieldSchema }

// Some fields have their own errors, ones clients written from the troubleshooting guide already
// match on (`Nomor telepon diperlukan`): the field's schema names them (see fieldErrorKeyword).
function fieldErrorCode (issues: ValidationIssue[]): ErrorCode | undefined {
  for (const issue of issues) {
    if (issue.keyword !== 'required') continue
    const code = issue.parentSchema?.properties?.[issue.params.missingProperty as string]?.[fieldErrorKeyword]?.missing
    if (code !== undefined) return code
  }
  for (const issue of issues) {
    const code = issue.keyword === 'required' ? undefined : issue.parentSchema?.[fieldErrorKeyword]?.invalid
    if (code !== undefined) return code
  }
  return undefined
}

const fastifyErrorCodes: Record<string, () => FastifyError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new errors.BODY_TOO_LARGE(),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new errors.INVALID_JSON(),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new errors.INVALID_JSON(),
  FST_ERR_BAD_URL: () => new errors.URL_INVALID(),
  FST_ERR_MAX_PARAM_LENGTH: () => new errors.URL_PARAMETER_TOO_LONG()
}

// The Redis client reconnects on its own within a few seconds.
const stateStoreRetryAfterSeconds = 5

export function toPublicError (error: ApiError, request: FastifyRequest): ApiError {
  if (error.validation !== undefined) {
    const code = fieldErrorCode(error.validation)
    if (code !== undefined) return new errors[code]()
    const message = error.validation
      .map((issue) => `${error.validationContext ?? 'body'}${issue.instancePath.replaceAll('/', '.')} ${issue.message ?? ''}`.trim())
      .join('; ')
    return new errors.VALIDATION_FAILED(message)
  }
  if (error.code in errors) return error
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new errors.UNSUPPORTED_CONTENT_TYPE(request.headers['content-type'] ?? '(kosong)')
  }
  const mapped = fastifyErrorCodes[error.code]
  if (mapped !== undefined) return mapped()
  // A client error raised by fastify or one of its plugins already says what is wrong.
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return error
  if (error instanceof StateStoreUnavailableError) {
    return withRetryAfter(new errors.STATE_STORE_UNAVAILABLE(), stateStoreRetryAfterSeconds)
  }
  return new errors.INTERNAL_ERROR()
}

export function errorEnvelope (error: ApiError): ErrorResponse {
  const envelope: ErrorResponse = { success: false, message: error.message, error: error.code as ErrorCode }
  if (error.retryAfterSeconds !== undefined) envelope.retryAfter = error.retryAfterSeconds
  if (error.attemptsLeft !== undefined) envelope.attemptsLeft = error.attemptsLeft
  return envelope
}

function replyWithError (error: ApiError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const publicError = toPublicError(error, request)
  const statusCode = publicError.statusCode ?? 500
  // A client's mistake is said by the request's own line; a failure of ours gets its stack.
  if (statusCode >= 500) request.log.error({ err: error }, 'request failed')
  logAnsweredErrorCode(reply, publicError.code)
  if (publicError.retryAfterSeconds !== undefined) reply.header('retry-after', String(publicError.retryAfterSeconds))
  return reply.code(statusCode).send(errorEnvelope(publicError))
}

// Fastify's `frameworkErrors` option: a URL the router cannot read (`%zz`, a path parameter over
// maxParamLength) is answered before any hook or error handler runs, so it comes here instead of
// getting Fastify's own JSON. No onSend hook runs for it either, hence the request id set here;
// nor does the request log controller, so the caller writes the request's line.
export function replyWithFrameworkError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id)
  void replyWithError(error, request, reply)
}

async function errorHandlerPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler(replyWithError)

  fastify.setNotFoundHandler((request, reply) => {
    const error = new errors.ROUTE_NOT_FOUND(request.method, request.url.split('?')[0])
    return reply.code(404).send(errorEnvelope(error))
  })
}

export default fp(errorHandlerPlugin, { name: 'error-handler', fastify: '5.x' })
