import { Type, type Static } from './typebox.js'
import { fieldErrors, named, Nullable, PhoneNumberField, SessionIdField, SuccessResponse } from './common.js'
import { appNameMaxLength, appNamePattern } from '../src/otp-message.js'

export const SendOtpBody = Type.Object({
  to: PhoneNumberField,
  length: Type.Optional(Type.Integer({ minimum: 4, maximum: 10, description: 'Digits in the code; OTP_LENGTH (6) by default' })),
  expiresIn: Type.Optional(Type.Integer({ minimum: 30, maximum: 86_400, description: 'Seconds the code stays valid; OTP_TTL_SECONDS (300) by default' })),
  appName: Type.Optional(Type.String({
    maxLength: appNameMaxLength,
    pattern: appNamePattern,
    description: `Name shown in the message; OTP_APP_NAME by default. One line of 1-${appNameMaxLength} letters, digits, spaces and . , & ' ( ) + ! _ - (no line breaks, no links)`,
    examples: ['Toko Maju'],
    ...fieldErrors({ invalid: 'APP_NAME_INVALID' })
  }))
}, named('SendOtpBody'))
export type SendOtpBody = Static<typeof SendOtpBody>

export const SendOtpResponse = SuccessResponse('SendOtpResponse', 'WhatsApp accepted the OTP message', Type.Object({
  messageId: Type.String({ description: 'WhatsApp message id of the OTP message' }),
  to: Type.String({ description: 'The number sent to, with its country code' }),
  expiresAt: Type.String({ format: 'date-time', description: 'After this the code is refused as expired' }),
  resendAfter: Type.String({ format: 'date-time', description: 'The earliest time a new code can be sent to this number' }),
  code: Type.Optional(Type.String({ description: 'The code itself, only when the operator set OTP_EXPOSE_CODE=true (testing)' })),
  verificationId: Type.String({ description: 'Follow the code with GET /api/otp/verifications/{verificationId}' }),
  sessionId: Type.String({ description: 'The session (WhatsApp account) that sent it' })
}))
export type SendOtpResponse = Static<typeof SendOtpResponse>

export const VerifyOtpBody = Type.Object({
  to: PhoneNumberField,
  code: Type.String({ pattern: '^[0-9]{4,10}$', description: 'The code the user typed, as text (leading zeros count)', examples: ['123456'] })
}, named('VerifyOtpBody'))
export type VerifyOtpBody = Static<typeof VerifyOtpBody>

export const VerifyOtpResponse = SuccessResponse('VerifyOtpResponse', 'The code is right; it is now spent', Type.Object({
  verified: Type.Literal(true),
  to: Type.String({ description: 'The number verified, with its country code' })
}))
export type VerifyOtpResponse = Static<typeof VerifyOtpResponse>

export const verificationStatuses = ['pending', 'approved', 'expired', 'max_attempts', 'canceled', 'failed'] as const

export const VerificationIdParams = Type.Object({
  verificationId: Type.String({ maxLength: 64, description: 'The verificationId an OTP or inbound verification answered with' })
})
export type VerificationIdParams = Static<typeof VerificationIdParams>

export const Verification = Type.Object({
  verificationId: Type.String(),
  to: Nullable(Type.String({ description: 'The number the code is for; null for an inbound verification started without one' })),
  method: Type.Union([Type.Literal('outbound'), Type.Literal('inbound')], { description: 'outbound: the service sent the code; inbound: the user sends it to the service' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('expired'), Type.Literal('max_attempts'), Type.Literal('canceled'), Type.Literal('failed')], {
    description: 'pending until approved (the right code), expired, max_attempts (too many wrong codes), canceled (DELETE, or a newer code for the number) or failed'
  }),
  sessionId: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  approvedAt: Nullable(Type.String({ format: 'date-time' })),
  phone: Nullable(Type.String({ description: 'The number that proved itself, once approved' }))
}, named('Verification', 'One OTP or inbound verification and where it stands'))
export type Verification = Static<typeof Verification>

export const VerificationResponse = SuccessResponse('VerificationResponse', 'The verification', Verification)
export type VerificationResponse = Static<typeof VerificationResponse>

export const InboundVerificationBody = Type.Object({
  to: Type.Optional(PhoneNumberField),
  sessionId: Type.Optional(SessionIdField({ description: 'The account the user writes to; one is picked when omitted' })),
  expiresIn: Type.Optional(Type.Integer({ minimum: 30, maximum: 86_400, description: 'Seconds the code stays valid; OTP_TTL_SECONDS (300) by default' })),
  appName: SendOtpBody.properties.appName
}, named('InboundVerificationBody'))
export type InboundVerificationBody = Static<typeof InboundVerificationBody>

export const InboundVerificationResponse = SuccessResponse('InboundVerificationResponse', 'A user-first verification: show waLink (or text) to the user', Type.Object({
  verificationId: Type.String(),
  code: Type.String({ description: 'The code the user sends; already in `text`' }),
  text: Type.String({ description: 'The text the user sends to the session\'s number' }),
  waLink: Type.String({ description: 'https://wa.me/<session number>?text=<text>: opens WhatsApp with the text ready to send' }),
  sessionId: Type.String(),
  expiresAt: Type.String({ format: 'date-time' })
}))
export type InboundVerificationResponse = Static<typeof InboundVerificationResponse>

// Long OpenAPI descriptions of the routes, kept here so the route handlers stay short.
export const sendOtpDescription = 'Sends a fresh code with the Indonesian template; it replaces any earlier code for the number. Per number one send per OTP_COOLDOWN_SECONDS and at most OTP_MAX_PER_HOUR an hour: 429 with Retry-After and `retryAfter` (seconds). The session is checked first (404, 409). The number must be on WhatsApp (422); that answer counts against the number\'s cooldown like a send, so the API cannot be used to probe numbers. Any other failed send (429 SEND_QUEUE_FULL when the session\'s queue cannot start it within SEND_MAX_WAIT_MS, 502, 503) leaves no valid code and does not count. `expiresAt` runs from when WhatsApp accepted the message. The code is never in the response unless OTP_EXPOSE_CODE=true.'
export const sendOtpFromPoolDescription = 'Like POST /api/messages/{sessionId}/otp, but the sender is picked: a connected session that already chats with the number first (existing chats are delivered even from a restricted account), else an unrestricted one, the least recently used. When WhatsApp refuses the message (463, the account may not start new chats) the next session is tried; a refused send is never retried on the same session. No session can send: 503 NO_SENDER_AVAILABLE with Retry-After. `sessionId` names the session used. With REDIS_URL the sessions of every instance count: the send runs on the instance that holds the session picked.'
export const startInboundVerificationDescription = 'Answers a code, the text that holds it and a wa.me link that opens WhatsApp with that text ready to send to the session\'s number. When a message holding the code reaches the session from `to` (from anyone when `to` is omitted) the verification is approved and `otp.verified` fires with method "inbound". WhatsApp never counts a chat the user started as reaching out, so this works while the account is restricted, and afterwards the chat exists: later OTPs to the number are not first contact.'
export const getVerificationDescription = 'Every OTP answer (and POST /api/otp/inbound) has a verificationId. `status` is pending until the right code arrives (approved, with `phone` and `approvedAt`), or expired, max_attempts (too many wrong codes), canceled (DELETE, or a newer code for the same number) or failed (WhatsApp reported the message failed). Readable for a day after it ended; unknown ids are 404 VERIFICATION_NOT_FOUND.'
export const verifyOtpDescription = 'The right code is accepted once, then spent. A wrong code is 400 OTP_INVALID with `attemptsLeft`; after OTP_MAX_ATTEMPTS wrong codes the code is void (429 OTP_TOO_MANY_ATTEMPTS); an expired code is 410 OTP_EXPIRED; no code for the number is 404 OTP_NOT_FOUND. 503 STATE_STORE_UNAVAILABLE when REDIS_URL is set and Redis cannot be reached (nothing changed; retry after Retry-After).'
