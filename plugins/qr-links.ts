import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

export interface QrLinks {
  // A token that opens one session's qr-page without the API key until expiresAt.
  sign: (sessionId: string, ttlSeconds: number) => { token: string, expiresAt: Date }
  verify: (sessionId: string, token: string | undefined) => boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    qrLinks: QrLinks
  }
}

// The secret lives only in memory: a restart voids every link, which suits links that last minutes.
export function createQrLinks (secret: Buffer = randomBytes(32), clock: () => number = Date.now): QrLinks {
  const signature = (sessionId: string, expiresAtSeconds: number): Buffer =>
    createHmac('sha256', secret).update(`qr-page:${sessionId}:${expiresAtSeconds}`).digest()

  return {
    sign (sessionId, ttlSeconds) {
      const expiresAtSeconds = Math.floor(clock() / 1000) + ttlSeconds
      const token = `${expiresAtSeconds}.${signature(sessionId, expiresAtSeconds).toString('base64url')}`
      return { token, expiresAt: new Date(expiresAtSeconds * 1000) }
    },
    verify (sessionId, token) {
      const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '')
      if (match === null) return false
      const expiresAtSeconds = Number(match[1])
      if (expiresAtSeconds * 1000 <= clock()) return false
      return timingSafeEqual(Buffer.from(match[2], 'base64url'), signature(sessionId, expiresAtSeconds))
    }
  }
}

async function qrLinksPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('qrLinks', createQrLinks())
}

export default fp(qrLinksPlugin, { name: 'qr-links', fastify: '5.x' })
