import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors } from '../src/errors.js'

export interface ApiKeyAuth {
  required: boolean
  // A short, non-secret id of the key the request presented, or null when it presented no valid key.
  identify: (request: FastifyRequest) => string | null
  // The headers that carry the request's key, to pass on when this instance makes a call for the
  // client on another instance (which checks the key itself).
  credentialHeaders: (request: FastifyRequest) => Record<string, string>
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

// Every key the request presents, in X-API-Key and in a Bearer Authorization. Another
// Authorization scheme (a proxy's Basic login) carries no key of ours and is left alone.
function presentedKeys (request: FastifyRequest): string[] {
  const keys: string[] = []
  const header = request.headers['x-api-key']
  if (typeof header === 'string' && header !== '') keys.push(header)
  const authorization = request.headers.authorization
  if (authorization !== undefined && /^bearer\s+/i.test(authorization)) keys.push(authorization.replace(/^bearer\s+/i, '').trim())
  return keys
}

function credentialHeaders (request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {}
  const header = request.headers['x-api-key']
  if (typeof header === 'string') headers['x-api-key'] = header
  if (request.headers.authorization !== undefined) headers.authorization = request.headers.authorization
  return headers
}

export function createApiKeyAuth (keys: string[]): ApiKeyAuth {
  // Comparing equal-length digests keeps timingSafeEqual usable and hides the keys' lengths.
  const keyDigests = keys.map(digest)
  // The auth hook, the rate limiter and the qr-page all ask about the same request: hash once.
  const identified = new WeakMap<FastifyRequest, string | null>()
  // Hashing the presented key was most of a request's auth cost: a string once found valid is
  // remembered with its id. Only a configured key can get in, so this never holds more entries than
  // there are keys; a wrong key is never remembered and is hashed and compared every time.
  const validKeyIds = new Map<string, string>()

  function isKnown (candidate: Buffer): boolean {
    let matched = false
    for (const keyDigest of keyDigests) {
      matched = timingSafeEqual(candidate, keyDigest) || matched
    }
    return matched
  }

  function keyIdOf (presented: string): string | null {
    const remembered = validKeyIds.get(presented)
    if (remembered !== undefined) return remembered
    const candidate = digest(presented)
    if (!isKnown(candidate)) return null
    const keyId = candidate.toString('hex').slice(0, 12)
    validKeyIds.set(presented, keyId)
    return keyId
  }

  // Two credentials that disagree are refused: a request is only as trusted as its worst key.
  function check (request: FastifyRequest): string | null {
    const keyIds = presentedKeys(request).map(keyIdOf)
    if (keyIds.length === 0 || keyIds.includes(null)) return null
    return keyIds[0]
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
    },
    credentialHeaders
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
  // preParsing: after the rate limiter's onRequest hook, so a wrong key is counted against the
  // client's IP before it is refused, and still before any body is read.
  // Callback style: an async hook would cost a promise on every request.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (isPublic(request) || apiKeyAuth.identify(request) !== null) done(null, payload)
    else done(new errors.UNAUTHORIZED())
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['error-handler'] })
