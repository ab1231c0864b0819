import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors } from '../src/errors.js'

export interface ApiKeyAuth {
  required: boolean
  // A short, non-secret id of the key the request presented, or null when it presented no valid key.
  identify: (request: FastifyRequest) => string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    apiKeyAuth: ApiKeyAuth
  }
  interface FastifyContextConfig {
    // Reachable without an API key (health, docs, or a route that checks its own signed token).
    public?: boolean
  }
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function presentedKey (request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key']
  if (typeof header === 'string' && header !== '') return header
  const authorization = request.headers.authorization
  if (authorization !== undefined && /^bearer\s+/i.test(authorization)) return authorization.replace(/^bearer\s+/i, '').trim()
  return undefined
}

export function createApiKeyAuth (keys: string[]): ApiKeyAuth {
  // Comparing equal-length digests keeps timingSafeEqual usable and hides the keys' lengths.
  const keyDigests = keys.map(digest)
  // The auth hook, the rate limiter and the qr-page all ask about the same request: hash once.
  const identified = new WeakMap<FastifyRequest, string | null>()

  function check (request: FastifyRequest): string | null {
    const key = presentedKey(request)
    if (key === undefined) return null
    const candidate = digest(key)
    let matched = false
    for (const keyDigest of keyDigests) {
      matched = timingSafeEqual(candidate, keyDigest) || matched
    }
    return matched ? candidate.toString('hex').slice(0, 12) : null
  }

  return {
    required: keys.length > 0,
    identify (request) {
      let keyId = identified.get(request)
      if (keyId === undefined) {
        keyId = check(request)
        identified.set(request, keyId)
      }
      return keyId
    }
  }
}

function isPublic (request: FastifyRequest): boolean {
  if (request.routeOptions.config.public === true) return true
  const url = request.routeOptions.url ?? ''
  return url === '/docs' || url.startsWith('/docs/')
}

async function authPlugin (fastify: FastifyInstance, options: { apiKeys: string[] }): Promise<void> {
  const apiKeyAuth = createApiKeyAuth(options.apiKeys)
  fastify.decorate('apiKeyAuth', apiKeyAuth)
  if (!apiKeyAuth.required) {
    fastify.log.warn('API_KEY is not set: every endpoint is open to anyone who can reach this port')
    return
  }
  fastify.addHook('onRequest', async (request) => {
    if (isPublic(request)) return
    if (apiKeyAuth.identify(request) === null) throw new errors.UNAUTHORIZED()
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['error-handler'] })
