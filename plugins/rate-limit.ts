import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors, withRetryAfter } from '../src/errors.js'

export interface RateLimitOptions {
  max: number
  timeWindowMs: number
}

// One bucket per valid API key, so several apps behind one proxy IP don't starve each other;
// anything else (no key, a wrong key, an unknown path) is counted per client IP
// (X-Forwarded-For when TRUST_PROXY is set).
export function rateLimitKey (fastify: FastifyInstance, request: FastifyRequest): string {
  const keyId = fastify.apiKeyAuth.identify(request)
  return keyId === null ? `ip:${request.ip}` : `key:${keyId}`
}

async function rateLimitPlugin (fastify: FastifyInstance, options: RateLimitOptions): Promise<void> {
  await fastify.register(rateLimit, {
    // Not per route: one instance-wide onRequest hook also covers 404s, and runs before the
    // auth check (a preParsing hook), so nobody can try keys without limit.
    global: false,
    max: options.max,
    timeWindow: options.timeWindowMs,
    keyGenerator: (request) => rateLimitKey(fastify, request),
    errorResponseBuilder: (_request, context) => {
      const retryAfterSeconds = Math.ceil(context.ttl / 1000)
      return withRetryAfter(new errors.RATE_LIMITED(retryAfterSeconds), retryAfterSeconds)
    }
  })
  fastify.addHook('onRequest', fastify.rateLimit())
}

export default fp(rateLimitPlugin, { name: 'rate-limit', fastify: '5.x', dependencies: ['auth'] })
