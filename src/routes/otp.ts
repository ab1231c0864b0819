import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, SessionIdParams } from '../../schemas/common.js'
import { SendOtpBody, SendOtpResponse, VerifyOtpBody, VerifyOtpResponse } from '../../schemas/otp.js'

const otpRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/api/messages/:sessionId/otp', {
    schema: {
      tags: ['messages'],
      summary: 'Send a one-time password',
      description: 'Sends a fresh code with the Indonesian template; it replaces any earlier code for the number. Per number one send per OTP_COOLDOWN_SECONDS and at most OTP_MAX_PER_HOUR an hour: 429 with Retry-After and `retryAfter` (seconds). The session is checked first (404, 409). The number must be on WhatsApp (422); that answer counts against the number\'s cooldown like a send, so the API cannot be used to probe numbers. Any other failed send (429 SEND_QUEUE_FULL when the session\'s queue cannot start it within SEND_MAX_WAIT_MS, 502, 503) leaves no valid code and does not count. `expiresAt` runs from when WhatsApp accepted the message. The code is never in the response unless OTP_EXPOSE_CODE=true.',
      params: SessionIdParams,
      body: SendOtpBody,
      response: { 200: SendOtpResponse, ...errorResponses(400, 401, 404, 409, 422, 429, 502, 503) }
    }
  }, async (request) => {
    const { to, length, expiresIn, appName } = request.body
    const sent = await fastify.otp.send(request.params.sessionId, to, { length, expiresInSeconds: expiresIn, appName })
    return {
      success: true as const,
      message: 'OTP berhasil dikirim',
      data: { ...sent, expiresAt: sent.expiresAt.toISOString(), resendAfter: sent.resendAfter.toISOString() }
    }
  })

  fastify.post('/api/otp/verify', {
    schema: {
      tags: ['otp'],
      summary: 'Verify a one-time password',
      description: 'The right code is accepted once, then spent. A wrong code is 400 OTP_INVALID with `attemptsLeft`; after OTP_MAX_ATTEMPTS wrong codes the code is void (429 OTP_TOO_MANY_ATTEMPTS); an expired code is 410 OTP_EXPIRED; no code for the number is 404 OTP_NOT_FOUND. 503 STATE_STORE_UNAVAILABLE when REDIS_URL is set and Redis cannot be reached (nothing changed; retry after Retry-After).',
      body: VerifyOtpBody,
      response: { 200: VerifyOtpResponse, ...errorResponses(400, 401, 404, 410, 429, 503) }
    }
  }, async (request) => {
    const { to } = await fastify.otp.verify(request.body.to, request.body.code)
    return { success: true as const, message: 'Kode OTP valid', data: { verified: true as const, to } }
  })
}

export default otpRoutes
