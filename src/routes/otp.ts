import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { normalizePhoneNumber } from '../../src/phone-number.js'
import { errorResponses, SessionIdParams } from '../../schemas/common.js'
import {
  InboundVerificationBody,
  InboundVerificationResponse,
  SendOtpBody,
  SendOtpResponse,
  VerificationIdParams,
  VerificationResponse,
  VerifyOtpBody,
  VerifyOtpResponse
} from '../../schemas/otp.js'
import type { OtpSent } from '../../plugins/otp.js'

function sentData (sent: OtpSent & { verificationId: string, sessionId: string }): SendOtpResponse['data'] {
  return { ...sent, expiresAt: sent.expiresAt.toISOString(), resendAfter: sent.resendAfter.toISOString() }
}

const otpRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/api/messages/:sessionId/otp', {
    config: { sessionSocket: true },
    schema: {
      operationId: 'sendOtp',
      tags: ['messages'],
      summary: 'Send a one-time password',
      description: 'Sends a fresh code with the Indonesian template; it replaces any earlier code for the number. Per number one send per OTP_COOLDOWN_SECONDS and at most OTP_MAX_PER_HOUR an hour: 429 with Retry-After and `retryAfter` (seconds). The session is checked first (404, 409). The number must be on WhatsApp (422); that answer counts against the number\'s cooldown like a send, so the API cannot be used to probe numbers. Any other failed send (429 SEND_QUEUE_FULL when the session\'s queue cannot start it within SEND_MAX_WAIT_MS, 502, 503) leaves no valid code and does not count. `expiresAt` runs from when WhatsApp accepted the message. The code is never in the response unless OTP_EXPOSE_CODE=true.',
      params: SessionIdParams,
      body: SendOtpBody,
      response: { 200: SendOtpResponse, ...errorResponses(400, 401, 404, 409, 422, 429, 502, 503) }
    }
  }, async (request) => {
    const { to, length, expiresIn, appName } = request.body
    const sent = await fastify.verifications.sendOtp(request.params.sessionId, to, { length, ttlSeconds: expiresIn, appName })
    return { success: true as const, message: 'OTP berhasil dikirim', data: sentData(sent) }
  })

  fastify.post('/api/otp/send', {
    schema: {
      operationId: 'sendOtpFromPool',
      tags: ['otp'],
      summary: 'Send a one-time password through a session the service picks',
      description: 'Like POST /api/messages/{sessionId}/otp, but the sender is picked: a connected session that already chats with the number first (existing chats are delivered even from a restricted account), else an unrestricted one, the least recently used. When WhatsApp refuses the message (463, the account may not start new chats) the next session is tried; a refused send is never retried on the same session. No session can send: 503 NO_SENDER_AVAILABLE with Retry-After. `sessionId` names the session used.',
      body: SendOtpBody,
      response: { 200: SendOtpResponse, ...errorResponses(400, 401, 422, 429, 502, 503) }
    }
  }, async (request) => {
    const { to, length, expiresIn, appName } = request.body
    const { result } = await fastify.senderPool.send(normalizePhoneNumber(to).formatted, async (sessionId) =>
      await fastify.verifications.sendOtp(sessionId, to, { length, ttlSeconds: expiresIn, appName }))
    return { success: true as const, message: 'OTP berhasil dikirim', data: sentData(result) }
  })

  fastify.post('/api/otp/inbound', {
    schema: {
      operationId: 'startInboundVerification',
      tags: ['otp'],
      summary: 'Start a user-first verification',
      description: 'Answers a code, the text that holds it and a wa.me link that opens WhatsApp with that text ready to send to the session\'s number. When a message holding the code reaches the session from `to` (from anyone when `to` is omitted) the verification is approved and `otp.verified` fires with method "inbound". WhatsApp never counts a chat the user started as reaching out, so this works while the account is restricted, and afterwards the chat exists: later OTPs to the number are not first contact.',
      body: InboundVerificationBody,
      response: { 200: InboundVerificationResponse, ...errorResponses(400, 401, 404, 409, 503) }
    }
  }, async (request) => {
    const { to, expiresIn, appName } = request.body
    const phone = to === undefined ? null : normalizePhoneNumber(to).formatted
    const sessionId = request.body.sessionId ?? fastify.senderPool.pickForInbound(phone)
    const started = await fastify.verifications.startInbound(sessionId, to, { ttlSeconds: expiresIn, appName })
    const { verificationId, code, text, waLink, expiresAt } = started
    return { success: true as const, data: { verificationId, code, text, waLink, sessionId, expiresAt } }
  })

  fastify.get('/api/otp/verifications/:verificationId', {
    schema: {
      operationId: 'getVerification',
      tags: ['otp'],
      summary: 'A verification and its status',
      description: 'Every OTP answer (and POST /api/otp/inbound) has a verificationId. `status` is pending until the right code arrives (approved, with `phone` and `approvedAt`), or expired, max_attempts (too many wrong codes), canceled (DELETE, or a newer code for the same number) or failed (WhatsApp reported the message failed). Readable for a day after it ended; unknown ids are 404 VERIFICATION_NOT_FOUND.',
      params: VerificationIdParams,
      response: { 200: VerificationResponse, ...errorResponses(401, 404) }
    }
  }, async (request) => ({ success: true as const, data: await fastify.verifications.get(request.params.verificationId) }))

  fastify.delete('/api/otp/verifications/:verificationId', {
    schema: {
      operationId: 'cancelVerification',
      tags: ['otp'],
      summary: 'Cancel a pending verification',
      description: 'Its code no longer verifies. A verification that already ended keeps its status.',
      params: VerificationIdParams,
      response: { 200: VerificationResponse, ...errorResponses(401, 404) }
    }
  }, async (request) => ({ success: true as const, data: await fastify.verifications.cancel(request.params.verificationId) }))

  fastify.post('/api/otp/verify', {
    schema: {
      operationId: 'verifyOtp',
      tags: ['otp'],
      summary: 'Verify a one-time password',
      description: 'The right code is accepted once, then spent. A wrong code is 400 OTP_INVALID with `attemptsLeft`; after OTP_MAX_ATTEMPTS wrong codes the code is void (429 OTP_TOO_MANY_ATTEMPTS); an expired code is 410 OTP_EXPIRED; no code for the number is 404 OTP_NOT_FOUND. 503 STATE_STORE_UNAVAILABLE when REDIS_URL is set and Redis cannot be reached (nothing changed; retry after Retry-After).',
      body: VerifyOtpBody,
      response: { 200: VerifyOtpResponse, ...errorResponses(400, 401, 404, 410, 429, 503) }
    }
  }, async (request) => {
    const { to } = await fastify.verifications.verifyCode(request.body.to, request.body.code)
    return { success: true as const, message: 'Kode OTP valid', data: { verified: true as const, to } }
  })
}

export default otpRoutes
