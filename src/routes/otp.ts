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
  VerifyOtpResponse,
  sendOtpDescription,
  sendOtpFromPoolDescription,
  startInboundVerificationDescription,
  getVerificationDescription,
  verifyOtpDescription
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
      description: sendOtpDescription,
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
      description: sendOtpFromPoolDescription,
      body: SendOtpBody,
      response: { 200: SendOtpResponse, ...errorResponses(400, 401, 422, 429, 502, 503) }
    }
  }, async (request) => {
    const { to, length, expiresIn, appName } = request.body
    // A session another instance holds sends there, as POST /api/messages/{sessionId}/otp would.
    const { result } = await fastify.senderPool.send(normalizePhoneNumber(to).formatted, async (sessionId) =>
      await fastify.instanceRouter.runOnHolder(
        sessionId,
        async () => sentData(await fastify.verifications.sendOtp(sessionId, to, { length, ttlSeconds: expiresIn, appName })),
        { method: 'POST', path: `/api/messages/${sessionId}/otp`, body: request.body, requestId: request.id, headers: fastify.apiKeyAuth.credentialHeaders(request) }
      ))
    return { success: true as const, message: 'OTP berhasil dikirim', data: result }
  })

  fastify.post('/api/otp/inbound', {
    config: { sessionSocket: true, sessionIdIn: 'body' },
    schema: {
      operationId: 'startInboundVerification',
      tags: ['otp'],
      summary: 'Start a user-first verification',
      description: startInboundVerificationDescription,
      body: InboundVerificationBody,
      response: { 200: InboundVerificationResponse, ...errorResponses(400, 401, 404, 409, 503) }
    }
  }, async (request) => {
    const { to, expiresIn, appName } = request.body
    const phone = to === undefined ? null : normalizePhoneNumber(to).formatted
    const sessionId = request.body.sessionId ?? await fastify.senderPool.pickForInbound(phone)
    const started = await fastify.verifications.startInbound(sessionId, to, { ttlSeconds: expiresIn, appName })
    const { verificationId, code, text, waLink, expiresAt } = started
    return { success: true as const, data: { verificationId, code, text, waLink, sessionId, expiresAt } }
  })

  fastify.get('/api/otp/verifications/:verificationId', {
    schema: {
      operationId: 'getVerification',
      tags: ['otp'],
      summary: 'A verification and its status',
      description: getVerificationDescription,
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
      description: verifyOtpDescription,
      body: VerifyOtpBody,
      response: { 200: VerifyOtpResponse, ...errorResponses(400, 401, 404, 410, 429, 503) }
    }
  }, async (request) => {
    const { to } = await fastify.verifications.verifyCode(request.body.to, request.body.code)
    return { success: true as const, message: 'Kode OTP valid', data: { verified: true as const, to } }
  })
}

export default otpRoutes
