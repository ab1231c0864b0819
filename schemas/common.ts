import { Type, type Static, type TSchema, type TSchemaOptions } from './typebox.js'
import { fieldErrorKeyword, type FieldErrorCodes } from '../src/errors.js'
import { sessionIdDescription, sessionIdPattern } from '../src/session-id.js'

// A value that may be null: a JSON Schema union, which OpenAPI 3.1 and generated clients understand.
export function Nullable<T extends TSchema> (schema: T, options: { description?: string } = {}) {
  return Type.Union([schema, Type.Null()], options)
}

// The options that make a schema a named one: plugins/schemas.ts registers every exported schema
// with an $id, and the OpenAPI document names it in components.schemas (generated clients get a
// type of that name). Routes still use the schema object itself, which keeps TypeBox's inference.
export function named (name: string, description?: string): TSchemaOptions {
  return description === undefined ? { $id: name, title: name } : { $id: name, title: name, description }
}

// The error a field answers with when it is missing or broken, instead of VALIDATION_FAILED.
export function fieldErrors (codes: FieldErrorCodes): TSchemaOptions {
  return { [fieldErrorKeyword]: codes }
}

// Shared by every body that names a phone. A string, so leading zeros survive; a missing one
// gets the troubleshooting guide's `Nomor telepon diperlukan`.
export const PhoneNumberField = Type.String({
  description: 'Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)',
  examples: ['08123456789'],
  ...fieldErrors({ missing: 'PHONE_REQUIRED' })
})

export function SessionIdField (options: TSchemaOptions = {}) {
  return Type.String({
    pattern: sessionIdPattern.source,
    description: sessionIdDescription,
    ...options,
    ...fieldErrors({ missing: 'SESSION_ID_INVALID', invalid: 'SESSION_ID_INVALID' })
  })
}

export const ErrorResponse = Type.Object({
  success: Type.Literal(false),
  message: Type.String({ description: 'Indonesian, meant for people; clients may match on it (see docs/troubleshooting.md)' }),
  error: Type.String({ description: 'Machine-readable error code, e.g. SESSION_NOT_CONNECTED' }),
  retryAfter: Type.Optional(Type.Integer({ description: 'Seconds to wait before trying again (429)' })),
  attemptsLeft: Type.Optional(Type.Integer({ description: 'Wrong OTP codes still allowed before the code is void' }))
}, named('ErrorResponse', 'An error: `error` is the machine code, `message` the Indonesian text'))
export type ErrorResponse = Static<typeof ErrorResponse>

// What each error status means across the API; the operation's description names its own cases.
const errorDescriptions: Record<number, string> = {
  400: 'The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...)',
  401: 'No valid API key (X-API-Key header or Authorization: Bearer)',
  404: 'Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE)',
  409: 'The session\'s state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...)',
  410: 'The OTP expired (OTP_EXPIRED): ask for a new code',
  413: 'The body, a form field or the file is over its limit',
  415: 'A content type or file type that is not accepted',
  422: 'The number is not on WhatsApp (PHONE_NOT_ON_WHATSAPP)',
  429: 'Too many requests: wait `retryAfter` seconds (also the Retry-After header)',
  502: 'WhatsApp did not accept the message (MESSAGE_SEND_FAILED)',
  503: 'The session is shutting down (SEND_QUEUE_CLOSED)'
}

const errorReference = Type.Ref('ErrorResponse')

// Each route lists the error statuses it can really answer with, so generated clients know them.
// Always JSON, also on routes whose success is an image or a page.
export function errorResponses (...statuses: number[]) {
  const responses: Record<number, { description: string, content: { 'application/json': { schema: typeof errorReference } } }> = {}
  for (const status of statuses) {
    const description = errorDescriptions[status]
    if (description === undefined) throw new Error(`no description for error status ${status}`)
    responses[status] = { description, content: { 'application/json': { schema: errorReference } } }
  }
  return responses
}

// The envelope of every success; `name` and `description` name it in the OpenAPI document.
export function SuccessResponse<Data extends TSchema> (name: string, description: string, data: Data) {
  return Type.Object({
    success: Type.Literal(true),
    message: Type.Optional(Type.String()),
    data
  }, named(name, description))
}

export const SessionIdParams = Type.Object({ sessionId: SessionIdField() })
export type SessionIdParams = Static<typeof SessionIdParams>
