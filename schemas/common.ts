import { Type, type Static, type TSchema } from 'typebox'
import { sessionIdDescription, sessionIdPattern } from '../src/session-id.js'

// A value that may be null: a JSON Schema union, which OpenAPI 3.1 and generated clients understand.
export function Nullable<T extends TSchema> (schema: T, options: { description?: string } = {}) {
  return Type.Union([schema, Type.Null()], options)
}

// Shared by every body that names a phone. A string, so leading zeros survive; a missing one
// gets the troubleshooting guide's `Nomor telepon diperlukan`.
export const SessionIdField = Type.String({ pattern: sessionIdPattern.source, description: sessionIdDescription })

export const PhoneNumberField = Type.String({
  description: 'Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)',
  examples: ['08123456789']
})

export const ErrorResponse = Type.Object({
  success: Type.Literal(false),
  message: Type.String({ description: 'Indonesian, meant for people; clients may match on it (see docs/troubleshooting.md)' }),
  error: Type.String({ description: 'Machine-readable error code, e.g. SESSION_NOT_CONNECTED' }),
  retryAfter: Type.Optional(Type.Integer({ description: 'Seconds to wait before trying again (429)' })),
  attemptsLeft: Type.Optional(Type.Integer({ description: 'Wrong OTP codes still allowed before the code is void' }))
}, { $id: 'ErrorResponse', title: 'ErrorResponse' })
export type ErrorResponse = Static<typeof ErrorResponse>

const errorReference = Type.Ref('ErrorResponse')

// Each route lists the error statuses it can really answer with, so generated clients know them.
export function errorResponses (...statuses: number[]): Record<number, typeof errorReference> {
  const responses: Record<number, typeof errorReference> = {}
  for (const status of statuses) responses[status] = errorReference
  return responses
}

export function SuccessResponse<Data extends TSchema> (data: Data) {
  return Type.Object({
    success: Type.Literal(true),
    message: Type.Optional(Type.String()),
    data
  })
}

export const SessionIdParams = Type.Object({
  sessionId: SessionIdField
})
export type SessionIdParams = Static<typeof SessionIdParams>
