import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors, withRetryAfter } from '../src/errors.js'
import { checkInstanceCall } from '../src/instance-signature.js'

export interface RateLimitOptions {
  max: number
  timeWindowMs: number
  // Several instances: the counts live in this Redis, so the limit holds across all of them.
  redisUrl?: string
  redisKeyPrefix?: string
  // A call another instance forwarded (signed with this secret) was counted where it arrived.
  instanceSecret?: string
}

// One bucket per valid API key, so several apps behind one proxy IP don't starve each other;
// anything else (no key, a wrong key, an unknown path) is counted per client IP
// (X-Forwarded-For when TRUST_PROXY is set).
export function rateLimitKey (fastify: FastifyInstance, request: FastifyRequest): string {
  const keyId = fastify.apiKeyAuth.identify(request)
  return keyId === null ? `ip:${request.ip}` : `key:${keyId}`
}

// Fails at once while Redis is away (no offline queue), like the state store; the limiter then lets
// calls through (skipOnError) rather than taking health and every route down with Redis.
// The client is loaded only with REDIS_URL: a single instance never needs it, and it is slow to load.
async function openRedis (url: string): Promise<Redis> {
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  // Reconnection is ioredis' job; an error event without a listener would crash the process.
  redis.on('error', () => {})
  return redis
}

async function rateLimitPlugin (fastify: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const redis = options.redisUrl === undefined ? undefined : await openRedis(options.redisUrl)
  if (redis !== undefined) {
    fastify.addHook('onClose', async () => {
      redis.disconnect()
    })
  }
  const { instanceSecret } = options
  await fastify.register(rateLimit, {
    ...(redis === undefined ? {} : { redis, nameSpace: `${options.redisKeyPrefix ?? ''}rate-limit:`, skipOnError: true }),
    // Only with several instances: the limiter awaits an allow list on every request.
    ...(instanceSecret === undefined
      ? {}
      : { allowList: (request: FastifyRequest) => checkInstanceCall(instanceSecret, { method: request.method, url: request.url }, request.headers) === 'valid' }),
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
