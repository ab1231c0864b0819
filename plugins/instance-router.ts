import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify'
import { answeredElsewhere, errors, holderRetryAfterSeconds, holderUnavailable, withRetryAfter } from '../src/errors.js'
import { checkInstanceCall, signInstanceCall } from '../src/instance-signature.js'
import { StateStoreUnavailableError, type SessionMetadata, type StateStore } from '../src/state/state-store.js'
import { assertSessionId } from '../src/session-id.js'
import { addPreValidation } from '../src/route-hooks.js'
import type { SessionSnapshot } from './session-registry.js'

// Where a call about one session is carried out: here, or by the instance holding its lease.
export type SessionPlacement = { kind: 'here' } | { kind: 'elsewhere', instanceId: string, url: string }

export interface InstanceRouterOptions {
  store: Pick<StateStore, 'leases' | 'instances' | 'sessions'>
  instanceId: string
  // The session in this instance's own registry (it may have it before any lease exists).
  localSession: (sessionId: string) => SessionSnapshot | undefined
  // Every session this instance's registry has.
  localSessions: () => SessionSnapshot[]
  // false: one process, its registry is the whole truth.
  shared: boolean
  instanceUrl: string
}

export interface InstanceRouter {
  // `forwarded`: the call already came from another instance, so it is never sent on again.
  // `orStored`: with no live holder the call runs here on what the store knows (see `session`).
  place: (sessionId: string, forwarded: boolean, orStored?: boolean) => Promise<SessionPlacement>
  // One session: from this instance's registry, else as its holder last wrote it to the store.
  session: (sessionId: string) => Promise<SessionSnapshot>
  // Every session in the cluster: this instance's own as its registry sees them, the others as
  // their holders last wrote them to the store.
  listSessions: () => Promise<SessionSnapshot[]>
  // For /api/health with REDIS_URL: this instance, and the instances alive in the store (null
  // while the store cannot be reached). undefined for one process.
  clusterStatus: () => Promise<ClusterStatus | undefined>
  // Runs `here` when this instance holds the session (always, for one process); otherwise makes
  // `call` on the holder and answers what the holder answered: its `data`, or its error as the
  // same error here. A holder that cannot be reached is SESSION_HOLDER_UNAVAILABLE.
  runOnHolder: <Result>(sessionId: string, here: () => Promise<Result>, call: HolderCall) => Promise<Result>
}

// A call this instance makes itself on a session's holder (the pool's send picks a session held
// elsewhere): the route and body the holder runs, and the client's credentials and request id.
export interface HolderCall {
  method: 'POST'
  path: string
  body: unknown
  requestId: string
  headers: Record<string, string>
}

export type CallHolder = (holder: { instanceId: string, url: string }, sessionId: string, call: HolderCall) => Promise<unknown>

export interface ClusterStatus {
  instance: { id: string, url: string, sessionsHeld: number }
  cluster: { liveInstances: number, instances: Array<{ id: string, url: string }> } | null
}

declare module 'fastify' {
  interface FastifyInstance {
    instanceRouter: InstanceRouter
  }
  interface FastifyContextConfig {
    // The route needs the session's WhatsApp socket: with REDIS_URL it runs on the lease holder.
    // 'or-stored': when no instance holds the session, it answers here from the store.
    sessionSocket?: boolean | 'or-stored'
    // Where the route names its session: the URL's :sessionId (the default), or the JSON body's
    // `sessionId` field (a route that may name none, e.g. when the service picks the sender).
    sessionIdIn?: 'params' | 'body'
  }
}

const storeRetryAfterSeconds = 5

export function storeUnavailable (): Error {
  return withRetryAfter(new errors.STATE_STORE_UNAVAILABLE(), storeRetryAfterSeconds)
}

// A StateStoreUnavailableError becomes the API's 503; anything else is passed on as it is.
export async function withStore<Result> (work: () => Promise<Result>): Promise<Result> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof StateStoreUnavailableError) throw storeUnavailable()
    throw error
  }
}

// The registry of the holder writes `status` beside the fields every store keeps.
type StoredSession = SessionMetadata & { connectedAt?: string | null }

export function snapshotFromMetadata (metadata: StoredSession): SessionSnapshot {
  const status = metadata.status ?? 'closed'
  return {
    sessionId: metadata.sessionId,
    status,
    isConnected: status === 'connected',
    user: metadata.user,
    qrAvailable: false,
    pairingCode: null,
    reconnectAttempts: 0,
    lastDisconnect: null,
    createdAt: metadata.createdAt,
    connectedAt: metadata.connectedAt ?? null,
    updatedAt: metadata.updatedAt ?? metadata.createdAt,
    restriction: metadata.restriction ?? null
  }
}

export function createInstanceRouter (
  options: InstanceRouterOptions & { retryAfterSeconds: number, callHolder?: CallHolder }
): InstanceRouter {
  const { store, instanceId, instanceUrl, localSession, localSessions, shared, retryAfterSeconds } = options
  const isLocal = (sessionId: string): boolean => localSession(sessionId) !== undefined
  async function place (sessionId: string, forwarded: boolean, orStored = false): Promise<SessionPlacement> {
    return await withStore(async () => {
      const here: SessionPlacement = { kind: 'here' }
      const holder = await store.leases.holder(sessionId)
      if (holder?.instanceId === instanceId) return here
      if (holder === undefined) {
        // Nobody holds it: this instance answers when it has the session, or when nobody
        // knows it at all (the answer is then the same 404 a single instance gives).
        if (orStored || isLocal(sessionId) || await store.sessions.get(sessionId) === undefined) return here
        throw holderUnavailable(sessionId, retryAfterSeconds)
      }
      // The lease moved between the forwarding instance's look-up and now.
      if (forwarded) {
        if (orStored) return here
        throw holderUnavailable(sessionId, retryAfterSeconds)
      }
      const live = (await store.instances.live()).find((instance) => instance.instanceId === holder.instanceId)
      if (live === undefined) {
        if (orStored) return here
        throw holderUnavailable(sessionId, retryAfterSeconds)
      }
      return { kind: 'elsewhere', instanceId: live.instanceId, url: live.url }
    })
  }
  return {
    place,
    async session (sessionId) {
      const local = localSession(sessionId)
      if (local !== undefined) return local
      if (!shared) throw new errors.SESSION_NOT_FOUND(sessionId)
      const stored = await withStore(async () => await store.sessions.get(sessionId))
      if (stored === undefined) throw new errors.SESSION_NOT_FOUND(sessionId)
      return snapshotFromMetadata(stored)
    },
    async listSessions () {
      const local = localSessions()
      if (!shared) return local
      const known = new Set(local.map((session) => session.sessionId))
      const stored = await withStore(async () => await store.sessions.list())
      const others = stored.filter((metadata) => !known.has(metadata.sessionId)).map(snapshotFromMetadata)
      return [...local, ...others].sort((first, second) => first.sessionId.localeCompare(second.sessionId))
    },
    async clusterStatus () {
      if (!shared) return undefined
      // This instance's registry opens sockets only for the sessions whose lease it holds.
      const instance = { id: instanceId, url: instanceUrl, sessionsHeld: localSessions().length }
      try {
        const live = await store.instances.live()
        const instances = live
          .map((entry) => ({ id: entry.instanceId, url: entry.url }))
          .sort((first, second) => first.id.localeCompare(second.id))
        return { instance, cluster: { liveInstances: instances.length, instances } }
      } catch (error) {
        if (error instanceof StateStoreUnavailableError) return { instance, cluster: null }
        throw error
      }
    },
    async runOnHolder (sessionId, here, call) {
      if (!shared) return await here()
      const placement = await place(sessionId, false)
      if (placement.kind === 'here') return await here()
      if (options.callHolder === undefined) throw holderUnavailable(sessionId, retryAfterSeconds)
      return await options.callHolder(placement, sessionId, call) as Awaited<ReturnType<typeof here>>
    }
  }
}

function isSessionId (sessionId: string): boolean {
  try {
    assertSessionId(sessionId)
    return true
  } catch {
    return false
  }
}

// The holder may wait for WhatsApp (a send's queue, a QR): give it as long as it may take itself.
function forwardTimeoutMs (fastify: FastifyInstance): number {
  return fastify.config.sendMaxWaitMs + fastify.config.whatsappQueryTimeoutMs + 10_000
}

// Calls a holder over HTTP, signed like a forwarded call: the holder runs it itself (never sends it
// on) and does not count it against the rate limit again. Never retried: a send must not go out twice.
export function createHolderCaller (options: {
  secret: string
  instanceId: string
  timeoutMs: number
  retryAfterSeconds: number
  logger: FastifyBaseLogger
}): CallHolder {
  const { secret, instanceId, timeoutMs, retryAfterSeconds, logger } = options
  return async (holder, sessionId, call) => {
    let status: number
    let answer: { data?: unknown, message?: unknown, error?: unknown, retryAfter?: unknown, attemptsLeft?: unknown }
    try {
      const response = await fetch(`${holder.url}${call.path}`, {
        method: call.method,
        headers: {
          ...call.headers,
          'content-type': 'application/json',
          'x-request-id': call.requestId,
          ...signInstanceCall(secret, { method: call.method, url: call.path }, instanceId)
        },
        body: JSON.stringify(call.body),
        signal: AbortSignal.timeout(timeoutMs)
      })
      status = response.status
      answer = await response.json() as typeof answer
    } catch (error) {
      logger.warn({ err: error, sessionId, holder: holder.instanceId }, 'the session\'s holder did not answer')
      throw holderUnavailable(sessionId, retryAfterSeconds)
    }
    if (status >= 200 && status < 300) return answer.data
    if (typeof answer.error !== 'string' || typeof answer.message !== 'string') {
      logger.warn({ sessionId, holder: holder.instanceId, status }, 'the session\'s holder answered without an error code')
      throw holderUnavailable(sessionId, retryAfterSeconds)
    }
    throw answeredElsewhere(status, {
      error: answer.error,
      message: answer.message,
      retryAfter: typeof answer.retryAfter === 'number' ? answer.retryAfter : undefined,
      attemptsLeft: typeof answer.attemptsLeft === 'number' ? answer.attemptsLeft : undefined
    })
  }
}

async function instanceRouterPlugin (fastify: FastifyInstance): Promise<void> {
  const { config } = fastify
  const retryAfterSeconds = holderRetryAfterSeconds(config.sessionLeaseMs)
  const router = createInstanceRouter({
    store: fastify.stateStore,
    instanceId: config.instanceId,
    localSession: (sessionId) => {
      try {
        return fastify.sessions.get(sessionId)
      } catch (error) {
        // A session that just left this instance is not local either: the store answers for it.
        if (error instanceof errors.SESSION_NOT_FOUND || error instanceof errors.SESSION_HOLDER_UNAVAILABLE) return undefined
        throw error
      }
    },
    localSessions: () => fastify.sessions.list(),
    shared: config.redisUrl !== undefined,
    instanceUrl: config.instanceUrl,
    retryAfterSeconds,
    ...(config.redisUrl === undefined || config.instanceSecret === undefined
      ? {}
      : {
          callHolder: createHolderCaller({
            secret: config.instanceSecret,
            instanceId: config.instanceId,
            timeoutMs: forwardTimeoutMs(fastify),
            retryAfterSeconds,
            logger: fastify.log.child({ component: 'instance-router' })
          })
        })
  })
  fastify.decorate('instanceRouter', router)
  if (config.redisUrl === undefined) return

  // Redis away degrades the whole service: OTPs, statuses and forwarding all need it.

  const secret = config.instanceSecret
  const timeoutMs = forwardTimeoutMs(fastify)
  // Loaded only here: a single instance never forwards, and the proxy (with its HTTP client) is
  // among the slowest modules to load at start.
  const { default: replyFrom } = await import('@fastify/reply-from')
  await fastify.register(replyFrom, {
    // Never retried behind the caller's back: a send must not go out twice, and a 503 (a QR not
    // offered yet) is the holder's answer to pass on as it is.
    retryMethods: [],
    undici: { headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
    destroyAgent: true,
    disableRequestLogging: true
  })

  function isForwarded (request: FastifyRequest): boolean {
    const check = checkInstanceCall(secret, { method: request.method, url: request.url }, request.headers)
    if (check === 'invalid') throw new errors.INSTANCE_SIGNATURE_INVALID()
    return check === 'valid'
  }

  // `streamedBody`: the request's unread body, when the call is placed before it is parsed.
  function forward (
    request: FastifyRequest,
    reply: FastifyReply,
    streamedBody: RequestPayload | undefined,
    sessionId: string,
    holder: { instanceId: string, url: string }
  ): void {
    // reply-from streams a request body that is a stream, and sends a parsed one as JSON again.
    if (streamedBody !== undefined) request.body = streamedBody
    request.log.info({ sessionId, holder: holder.instanceId }, 'call forwarded to the session\'s holder')
    void reply.from(`${holder.url}${request.url}`, {
      rewriteRequestHeaders: (_original, headers) => ({
        ...headers,
        'x-request-id': request.id,
        ...signInstanceCall(secret as string, { method: request.method, url: request.url }, config.instanceId)
      }),
      onError: (failedReply, { error }) => {
        request.log.warn({ err: error, sessionId, holder: holder.instanceId }, 'the session\'s holder did not answer')
        failedReply.send(holderUnavailable(sessionId, holderRetryAfterSeconds(config.sessionLeaseMs)))
      }
    })
  }

  // Calls `done` when this instance carries the call out itself, with the error when it cannot;
  // a forwarded call ends the lifecycle here.
  function placeCall (
    request: FastifyRequest,
    reply: FastifyReply,
    sessionId: unknown,
    streamedBody: RequestPayload | undefined,
    done: (error?: Error) => void
  ): void {
    // An invalid session id is left to the route's own validation, which answers as one instance does.
    const sessionSocket = request.routeOptions.config.sessionSocket
    if (sessionSocket === undefined || sessionSocket === false || typeof sessionId !== 'string' || !isSessionId(sessionId)) {
      done()
      return
    }
    let forwarded: boolean
    try {
      forwarded = isForwarded(request)
    } catch (error) {
      done(error as Error)
      return
    }
    router.place(sessionId, forwarded, sessionSocket === 'or-stored').then((placement) => {
      if (placement.kind === 'here') return true
      forward(request, reply, streamedBody, sessionId, placement)
      return false
    }).then((carryOnHere) => {
      if (carryOnHere) done()
    }, (error: Error) => done(error))
  }

  // preParsing, not preHandler: the body is still unread, so a multipart upload is streamed to the
  // holder as it arrives. Callback style, because a forwarded call ends the lifecycle here.
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    if (request.routeOptions.config.sessionIdIn === 'body') {
      done(null, payload)
      return
    }
    const sessionId = (request.params as { sessionId?: string } | undefined)?.sessionId
    const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined
    placeCall(request, reply, sessionId, hasBody ? payload : undefined, (error) => {
      if (error === undefined) done(null, payload)
      else done(error)
    })
  })

  // A session named in the body is known once the body is parsed. preValidation, before Ajv may
  // fill in defaults: the holder gets the body as the client sent it (as JSON again, not its bytes).
  fastify.addHook('onRoute', (routeOptions) => {
    if (routeOptions.config?.sessionIdIn !== 'body') return
    addPreValidation(routeOptions, (request, reply, done) => {
      placeCall(request, reply, (request.body as { sessionId?: unknown } | undefined)?.sessionId, undefined, done)
    })
  })
}

export default fp(instanceRouterPlugin, { name: 'instance-router', fastify: '5.x', dependencies: ['state-store', 'session-registry', 'auth', 'health'] })
