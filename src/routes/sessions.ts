import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, SessionIdParams } from '../../schemas/common.js'
import {
  CreateSessionBody,
  DeleteSessionResponse,
  PairingCodeBody,
  PairingCodeResponse,
  QrLinkBody,
  QrLinkResponse,
  QrPageQuery,
  QrPageStateResponse,
  QrQuery,
  QrResponse,
  SessionListResponse,
  SessionResponse,
  createSessionDescription,
  getSessionQrDescription,
  getSessionQrPngDescription,
  getQrPageDescription,
  createQrLinkDescription,
  requestPairingCodeDescription,
  restartSessionDescription,
  deleteSessionDescription
} from '../../schemas/sessions.js'
import { errors } from '../errors.js'
import { normalizePhoneNumber } from '../phone-number.js'
import { publicUrlFor } from '../public-url.js'
import { renderQrPage } from '../qr-page.js'
import type { FastifyReply, FastifyRequest } from 'fastify'

// One size for every QR the API renders, so the PNG, the data URL and the page show the same image.
const qrImageOptions = { margin: 2, width: 320 }

// The QR renderer is loaded by the first QR asked for: it is not needed to start, and a linked
// service may never show one.
async function qrRenderer (): Promise<typeof import('qrcode')> {
  return (await import('qrcode')).default
}

async function qrDataUrl (qr: string): Promise<string> {
  return await (await qrRenderer()).toDataURL(qr, qrImageOptions)
}

async function sendQrPng (reply: FastifyReply, qr: string): Promise<FastifyReply> {
  const image = await (await qrRenderer()).toBuffer(qr, { type: 'png', ...qrImageOptions })
  // The JSON serializer is bypassed on purpose: this answer is a binary body.
  return await reply.type('image/png').header('cache-control', 'no-store')
    .serializer((payload) => payload as string).send(image as unknown as string)
}

function qrPagePath (sessionId: string, token: string): string {
  return `/api/sessions/${encodeURIComponent(sessionId)}/qr-page?token=${encodeURIComponent(token)}`
}

// Relative to the page itself (…/qr-page → …/qr-page/state), so it still polls the right place
// when a reverse proxy publishes the service under a path of its own.
function qrPageStatePath (token: string): string {
  return `qr-page/state?token=${encodeURIComponent(token)}`
}

const sessionRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // The qr-page and its state are opened in a browser, which cannot send the API key header:
  // they accept a valid key or a signed qr-link token for that one session.
  function assertPageAccess (request: FastifyRequest, sessionId: string, token: string | undefined): void {
    if (!fastify.apiKeyAuth.required || fastify.apiKeyAuth.identify(request) !== null) return
    if (token === undefined) throw new errors.QR_PAGE_KEY_REQUIRED(sessionId)
    if (!fastify.qrLinks.verify(sessionId, token)) throw new errors.QR_LINK_INVALID()
  }

  fastify.post('/api/sessions/create', {
    schema: {
      operationId: 'createSession',
      tags: ['sessions'],
      summary: 'Create a session',
      description: createSessionDescription,
      body: CreateSessionBody,
      response: { 201: SessionResponse, ...errorResponses(400, 401, 409, 429, 502, 503) }
    }
  }, async (request, reply) => {
    const { sessionId, phoneNumber } = request.body
    const formatted = phoneNumber === undefined ? undefined : normalizePhoneNumber(phoneNumber).formatted
    await fastify.sessions.create(sessionId, formatted)
    return await reply.code(201).send({
      success: true,
      message: formatted === undefined
        ? `Session ${sessionId} berhasil dibuat, scan QR code untuk menghubungkan`
        : `Session ${sessionId} berhasil dibuat, masukkan kode pairing di WhatsApp`,
      data: fastify.sessions.get(sessionId)
    })
  })

  fastify.get('/api/sessions', {
    schema: {
      operationId: 'listSessions',
      tags: ['sessions'],
      summary: 'List sessions',
      description: 'Every session, keyed by session id, with its status and isConnected.',
      response: { 200: SessionListResponse, ...errorResponses(401, 429) }
    }
  }, async () => {
    const sessions = await fastify.instanceRouter.listSessions()
    const byId = Object.fromEntries(sessions.map((session) => [session.sessionId, session]))
    return { success: true as const, data: { sessions: byId, total: sessions.length } }
  })

  fastify.get('/api/sessions/:sessionId/status', {
    config: { sessionSocket: 'or-stored' },
    schema: {
      operationId: 'getSessionStatus',
      tags: ['sessions'],
      summary: 'Session status',
      description: 'One session: status, isConnected, linked user, whether a QR is on offer, last disconnect.',
      params: SessionIdParams,
      response: { 200: SessionResponse, ...errorResponses(400, 401, 404, 429) }
    }
  }, async (request) => ({ success: true as const, data: await fastify.instanceRouter.session(request.params.sessionId) }))

  fastify.get('/api/sessions/:sessionId/qr', {
    config: { sessionSocket: true },
    schema: {
      operationId: 'getSessionQr',
      tags: ['sessions'],
      summary: 'QR code to link the session',
      description: getSessionQrDescription,
      params: SessionIdParams,
      querystring: QrQuery,
      response: {
        200: {
          description: 'The QR as JSON; as image/png only with ?format=png',
          content: {
            'application/json': { schema: QrResponse },
            'image/png': { schema: { type: 'string', format: 'binary' } }
          }
        },
        ...errorResponses(400, 401, 404, 409, 429, 503)
      }
    }
  }, async (request, reply) => {
    const { sessionId } = request.params
    const qr = await fastify.sessions.qr(sessionId)
    if (request.query.format === 'png') return await sendQrPng(reply, qr)
    return { success: true as const, data: { sessionId, qr, qrImage: await qrDataUrl(qr) } }
  })

  // The image alone, as its own operation: a generated client gets a binary answer here and JSON
  // from …/qr, instead of one operation whose type is either.
  fastify.get('/api/sessions/:sessionId/qr.png', {
    schema: {
      operationId: 'getSessionQrPng',
      tags: ['sessions'],
      summary: 'QR code to link the session, as a PNG image',
      description: getSessionQrPngDescription,
      params: SessionIdParams,
      produces: ['image/png'],
      response: {
        200: { description: 'The QR as a PNG image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
        ...errorResponses(400, 401, 404, 409, 429, 503)
      }
    }
  }, async (request, reply) => await sendQrPng(reply, await fastify.sessions.qr(request.params.sessionId)))

  fastify.get('/api/sessions/:sessionId/qr-page', {
    config: { public: true, sessionSocket: true },
    schema: {
      operationId: 'getQrPage',
      tags: ['sessions'],
      summary: 'QR page for a browser',
      description: getQrPageDescription,
      security: [{ apiKey: [] }, { bearer: [] }, {}],
      params: SessionIdParams,
      querystring: QrPageQuery,
      produces: ['text/html'],
      response: {
        200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        ...errorResponses(400, 401, 404, 429)
      }
    }
  }, async (request, reply) => {
    const { sessionId } = request.params
    assertPageAccess(request, sessionId, request.query.token)
    fastify.sessions.get(sessionId)
    // The page polls with a token of its own, so it keeps working when it was opened with a header key.
    const { token } = fastify.qrLinks.sign(sessionId, 15 * 60)
    return await reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'")
      .send(renderQrPage({ sessionId, stateUrl: qrPageStatePath(token) }))
  })

  fastify.get('/api/sessions/:sessionId/qr-page/state', {
    config: { public: true, sessionSocket: true },
    schema: {
      operationId: 'getQrPageState',
      tags: ['sessions'],
      summary: 'State polled by the QR page',
      description: 'Status and current QR image of one session, for the qr-page. Needs the API key or a qr-link token. Starts a new QR cycle after qr_timeout.',
      security: [{ apiKey: [] }, { bearer: [] }, {}],
      params: SessionIdParams,
      querystring: QrPageQuery,
      response: { 200: QrPageStateResponse, ...errorResponses(400, 401, 404, 429) }
    }
  }, async (request) => {
    const { sessionId } = request.params
    assertPageAccess(request, sessionId, request.query.token)
    const session = fastify.sessions.get(sessionId)
    if (session.status === 'qr_timeout') {
      fastify.sessions.qr(sessionId).catch((error: unknown) => request.log.warn({ err: error, sessionId }, 'new QR cycle failed'))
    }
    const qr = fastify.sessions.currentQr(sessionId)
    return {
      success: true as const,
      data: {
        sessionId,
        status: session.status,
        isConnected: session.isConnected,
        qrImage: qr === null ? null : await qrDataUrl(qr),
        pairingCode: session.pairingCode,
        user: session.user
      }
    }
  })

  fastify.post('/api/sessions/:sessionId/qr-link', {
    config: { sessionSocket: true },
    schema: {
      operationId: 'createQrLink',
      tags: ['sessions'],
      summary: 'Signed QR page link',
      description: createQrLinkDescription,
      params: SessionIdParams,
      body: QrLinkBody,
      response: { 200: QrLinkResponse, ...errorResponses(400, 401, 404, 429) }
    }
  }, async (request) => {
    const { sessionId } = request.params
    fastify.sessions.get(sessionId)
    const { token, expiresAt } = fastify.qrLinks.sign(sessionId, request.body?.expiresInSeconds ?? 600)
    const path = qrPagePath(sessionId, token)
    const url = fastify.config.publicUrl === undefined ? path : publicUrlFor(fastify.config.publicUrl, path)
    return { success: true as const, data: { sessionId, url, expiresAt: expiresAt.toISOString() } }
  })

  fastify.post('/api/sessions/:sessionId/pairing-code', {
    config: { sessionSocket: true },
    schema: {
      operationId: 'requestPairingCode',
      tags: ['sessions'],
      summary: 'Pairing code instead of a QR',
      description: requestPairingCodeDescription,
      params: SessionIdParams,
      body: PairingCodeBody,
      response: { 200: PairingCodeResponse, ...errorResponses(400, 401, 404, 409, 429, 502, 503) }
    }
  }, async (request) => {
    const { sessionId } = request.params
    const { formatted } = normalizePhoneNumber(request.body.phoneNumber)
    const pairingCode = await fastify.sessions.requestPairingCode(sessionId, formatted)
    return { success: true as const, message: 'Masukkan kode ini di WhatsApp: Perangkat tertaut → Tautkan dengan nomor telepon', data: { sessionId, phoneNumber: formatted, pairingCode } }
  })

  fastify.put('/api/sessions/:sessionId/restart', {
    config: { sessionSocket: true },
    schema: {
      operationId: 'restartSession',
      tags: ['sessions'],
      summary: 'Restart a session',
      description: restartSessionDescription,
      params: SessionIdParams,
      response: { 200: SessionResponse, ...errorResponses(400, 401, 404, 429) }
    }
  }, async (request) => {
    const session = await fastify.sessions.restart(request.params.sessionId)
    return { success: true as const, message: `Session ${session.sessionId} sedang di-restart`, data: session }
  })

  fastify.delete('/api/sessions/:sessionId', {
    config: { sessionSocket: true },
    schema: {
      operationId: 'deleteSession',
      tags: ['sessions'],
      summary: 'Delete a session',
      description: deleteSessionDescription,
      params: SessionIdParams,
      response: { 200: DeleteSessionResponse, ...errorResponses(400, 401, 404, 429) }
    }
  }, async (request) => {
    const { sessionId } = request.params
    const { loggedOut } = await fastify.sessions.remove(sessionId)
    return { success: true as const, message: `Session ${sessionId} berhasil dihapus`, data: { sessionId, loggedOut } }
  })
}

export default sessionRoutes
