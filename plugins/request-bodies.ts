import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { errors } from '../src/errors.js'
import { addPreValidation } from '../src/route-hooks.js'

// One rule for request bodies: JSON with Content-Type application/json (the media route adds
// multipart/form-data for itself). Any other type carrying a body is 415, the same for text/plain
// (Fastify's default parser let it through to fail validation with a 400) as for form-urlencoded.
// A body is only required where the route has a field to require: an empty body, whatever its
// type, is no body, as generated clients send with DELETE or PUT.

interface BodySchema { type?: unknown, required?: unknown[] }

function bodySchemaOf (request: FastifyRequest): BodySchema | undefined {
  return request.routeOptions.schema?.body as BodySchema | undefined
}

function requiresFields (schema: BodySchema | undefined): boolean {
  return schema !== undefined && (schema.type !== 'object' || (schema.required?.length ?? 0) > 0)
}

function contentTypeOf (request: FastifyRequest): string {
  return request.headers['content-type'] ?? '(kosong)'
}

async function requestBodiesPlugin (fastify: FastifyInstance): Promise<void> {
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeContentTypeParser(['application/json', 'text/plain'])

  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      // Only a route that needs fields says so about an empty body; elsewhere it is no body at all.
      done(requiresFields(bodySchemaOf(request)) ? new errors.INVALID_JSON() : null, undefined)
      return
    }
    parseJson(request, body as string, done)
  })

  // Every other type, and a body without a Content-Type.
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    const { 'content-length': length, 'transfer-encoding': encoding } = request.headers
    if (length === '0' || (length === undefined && encoding === undefined)) {
      done(null, undefined)
      return
    }
    done(new errors.UNSUPPORTED_CONTENT_TYPE(contentTypeOf(request)), undefined)
  })

  // A route whose body fields are all optional (qr-link) takes no body as `{}`.
  fastify.addHook('onRoute', (routeOptions) => {
    const schema = routeOptions.schema?.body as BodySchema | undefined
    if (schema === undefined || requiresFields(schema)) return
    addPreValidation(routeOptions, emptyBodyAsObject)
  })
}

function emptyBodyAsObject (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.body === undefined) request.body = {}
  done()
}

export default fp(requestBodiesPlugin, { name: 'request-bodies', fastify: '5.x' })
