import { EventEmitter } from 'node:events'
import { mkdir } from 'node:fs/promises'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { errors, holderRetryAfterSeconds, withRetryAfter } from '../src/errors.js'
import { createSessionLifecycle } from '../src/session-lifecycle.js'
import { requestPairingCode, waitForQr } from '../src/session-linking.js'
import { createKeyedLock } from '../src/session-lock.js'
import { createRecentlyLeftSessions } from '../src/recently-left-sessions.js'
import { createSessionMetadataWriter } from '../src/session-metadata.js'
import { createSessionOwnership, type SessionOwnership } from '../src/session-ownership.js'
import { createRestoreQueue, linkedSessionFolders } from '../src/session-restore.js'
import { folderStorage, sharedStorage } from '../src/session-storage.js'
import type { SessionEventMap } from '../src/events.js'
import { assertSessionId } from '../src/session-id.js'
import type { SessionStatus } from '../src/session-status.js'
import { countSessions, newSession, openConnection, snapshot, waitingForScan, type Session, type SessionRegistry, type SessionRegistryOptions, type SessionRestriction, type SessionSnapshot } from '../src/session.js'
import { importAuthStateFolders } from '../src/state/import-auth-state.js'
import type { Lease, SessionMetadata } from '../src/state/state-store.js'

export { reconnectDelay } from '../src/session-close-policy.js'
export type { RestoreProgress, SessionCounts, SessionRegistry, SessionRegistryOptions, SessionRestriction, SessionSnapshot, SharedSessionsOptions } from '../src/session.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionRegistry
  }
}

// Waiting sessions free their place when scanned, deleted, or when their QR times out (about a minute).
const pendingRetryAfterSeconds = 60

export function createSessionRegistry (options: SessionRegistryOptions): SessionRegistry {
  const { transport, authStateDirectory, logger, shared } = options
  const qrWaitMs = options.qrWaitMs ?? 15_000
  const sessions = new Map<string, Session>()
  const withLock = createKeyedLock()
  const events = new EventEmitter<SessionEventMap>()
  const storage = shared === undefined ? folderStorage(authStateDirectory, transport) : sharedStorage(shared.store)
  // Waiting requests (qr-page, tests, webhooks) listen per session; more than ten is normal.
  events.setMaxListeners(0)
  let closing = false
  // Where snapshots read a session's restriction; the restrictions plugin says (describeRestrictionWith).
  let describeRestriction: (sessionId: string) => SessionRestriction | null = () => null
  const snapshotOf = (session: Session): SessionSnapshot => snapshot(session, describeRestriction(session.id))
  const restoreQueue = createRestoreQueue({
    events,
    logger,
    concurrency: options.restoreConcurrency,
    loginTimeoutMs: options.restoreLoginTimeoutMs ?? 20_000,
    closing: () => closing,
    open: async (session) => await withLock(session.id, async () => {
      if (closing || sessions.get(session.id) !== session || session.connection !== null) return
      await connect(session)
    })
  })

  const metadata = shared === undefined
    ? undefined
    : createSessionMetadataWriter({
      ...shared,
      logger,
      holds: (session) => session.lease !== null && ownership?.holds(session.id) === true,
      describeRestriction: (sessionId) => describeRestriction(sessionId)
    })
  const publish = (session: Session): void => { metadata?.publish(session) }

  const { setStatus, detach, connect, forget } = createSessionLifecycle({
    transport,
    storage,
    logger,
    events,
    sessions,
    withLock,
    reconnectMaxAttempts: options.reconnectMaxAttempts,
    reconnectBaseDelayMs: options.reconnectBaseDelayMs,
    reconnectMaxDelayMs: options.reconnectMaxDelayMs,
    unlinkedSessionTtlMs: options.unlinkedSessionTtlMs,
    random: options.random ?? Math.random,
    closing: () => closing,
    changed: publish,
    leaseRefused: (sessionId) => ownership?.refused(sessionId),
    forgotten: async (session) => {
      if (metadata === undefined || session.lease === null) return
      const lease = session.lease
      session.lease = null
      // Released even when the metadata could not be removed: a lease nobody renews would keep
      // the id taken on every instance until it ran out.
      try {
        await metadata.remove(session.id)
      } finally {
        await ownership?.release(lease)
      }
    }
  })

  // With REDIS_URL a session that left this instance is still in the cluster: 503, not 404.
  const recentlyLeft = shared === undefined
    ? undefined
    : createRecentlyLeftSessions({ forgetAfterMs: shared.leaseMs, retryAfterSeconds: holderRetryAfterSeconds(shared.leaseMs) })
  const notHere = (sessionId: string): Error => recentlyLeft?.notHere(sessionId) ?? new errors.SESSION_NOT_FOUND(sessionId)

  function find (sessionId: string): Session {
    assertSessionId(sessionId)
    const session = sessions.get(sessionId)
    if (session === undefined) throw notHere(sessionId)
    return session
  }

  function assertRoomForPendingSession (): void {
    let waiting = 0
    for (const session of sessions.values()) if (waitingForScan(session)) waiting++
    if (waiting >= options.maxPendingSessions) {
      throw withRetryAfter(new errors.SESSION_PENDING_LIMIT(options.maxPendingSessions), pendingRetryAfterSeconds)
    }
  }

  // Another instance runs the session from now on (lease lost, or handed over): the socket is
  // closed without logging out and the session leaves this instance's list; 'left' tells the
  // other plugins to drop what they keep of it here. Nothing shared is touched.
  async function letGo (sessionId: string, reason: string, release: boolean): Promise<void> {
    await withLock(sessionId, async () => {
      const session = sessions.get(sessionId)
      if (session === undefined || session.lease === null) return
      const lease = session.lease
      session.lease = null
      // Off the list before the socket closes: a call meanwhile is told the session moved, not
      // that it is not connected. Its next socket here waits for this lock.
      sessions.delete(sessionId)
      recentlyLeft?.add(sessionId)
      await detach(session)
      setStatus(session, 'closed', reason)
      if (release) await ownership?.release(lease).catch((error: unknown) => logger.warn({ sessionId, err: error }, 'releasing the lease failed'))
      events.emit('left', { sessionId })
    })
  }

  const ownership: SessionOwnership | undefined = shared === undefined
    ? undefined
    : createSessionOwnership({
      ...shared,
      logger,
      held: () => [...sessions.values()].flatMap((session) =>
        session.lease === null ? [] : [{ lease: session.lease, linked: session.linked }]),
      adopt,
      lost: async (sessionId, reason) => await letGo(sessionId, reason, false),
      handOver: async (sessionId) => await letGo(sessionId, 'handed over to another instance (fair share)', true)
    })

  // Linked sessions whose holder is gone: same credentials, no scan, opened like a restore (a
  // few at a time, however many a dead instance held).
  async function adopt (taken: Array<{ lease: Lease, metadata: SessionMetadata }>): Promise<void> {
    const queue: Session[] = []
    for (const { lease, metadata } of taken) {
      if (closing || sessions.has(lease.sessionId)) {
        await ownership?.release(lease)
        continue
      }
      const session = newSession(lease.sessionId, 'connecting', true, lease)
      session.user = metadata.user
      session.createdAt = new Date(metadata.createdAt)
      sessions.set(session.id, session)
      recentlyLeft?.delete(session.id)
      publish(session)
      queue.push(session)
    }
    restoreQueue.run(queue)
  }

  function assertNeedsLink (session: Session): void {
    if (session.status === 'connected') throw new errors.SESSION_ALREADY_CONNECTED(session.id)
  }

  // A session stopped waiting for a scan gets a fresh QR cycle when someone asks for a QR again.
  async function ensureQrCycle (session: Session): Promise<void> {
    if (session.status !== 'qr_timeout') return
    await withLock(session.id, async () => {
      if (session.status !== 'qr_timeout' || sessions.get(session.id) !== session) return
      if (!session.linked) assertRoomForPendingSession()
      await detach(session)
      setStatus(session, 'initializing', 'new QR cycle requested')
      await connect(session)
    })
  }

  // Elsewhere in the cluster counts as existing too: its holder runs it, or its metadata is kept.
  async function existsAnywhere (sessionId: string): Promise<boolean> {
    if (sessions.has(sessionId) || await storage.hasLinkedCredentials(sessionId)) return true
    return shared !== undefined && await shared.store.sessions.get(sessionId) !== undefined
  }

  // Folders in AUTH_STATE_DIR: without REDIS_URL the sessions themselves; with it, imported once.
  async function restoreFolders (): Promise<number> {
    if (shared !== undefined) {
      const imported = await importAuthStateFolders({
        authStateDirectory,
        store: shared.store,
        instanceId: shared.instanceId,
        leaseMs: shared.leaseMs
      })
      for (const { sessionId, outcome, error } of imported) logger.info({ sessionId, outcome, error }, 'session folder and the shared state store')
      await ownership?.start()
      return sessions.size
    }
    const queue: Session[] = []
    const known = (sessionId: string): boolean => sessions.has(sessionId)
    for (const sessionId of await linkedSessionFolders(authStateDirectory, storage, logger, known)) {
      // Created meanwhile through the API.
      if (known(sessionId)) continue
      const session = newSession(sessionId, 'connecting', true)
      sessions.set(sessionId, session)
      queue.push(session)
    }
    const listed = queue.length
    restoreQueue.run(queue)
    return listed
  }

  return {
    events,

    async create (sessionId, pairingPhoneNumber) {
      assertSessionId(sessionId)
      return await withLock(sessionId, async () => {
        if (await existsAnywhere(sessionId)) throw new errors.SESSION_EXISTS(sessionId)
        if (sessions.size >= options.maxSessions) throw new errors.SESSION_LIMIT(options.maxSessions)
        assertRoomForPendingSession()
        const session = newSession(sessionId, 'initializing', false)
        if (ownership !== undefined) {
          // Atomic across instances: of two creates of one id at the same moment, one gets it.
          session.lease = await ownership.acquire(sessionId) ?? null
          if (session.lease === null) throw new errors.SESSION_EXISTS(sessionId)
        }
        try {
          await storage.prepare(session)
        } catch (error) {
          // Nothing of the session exists yet but its lease: given back, so the id is free again.
          if (session.lease !== null) await ownership?.release(session.lease).catch((releaseError: unknown) => logger.warn({ sessionId, err: releaseError }, 'releasing the lease failed'))
          throw error
        }
        sessions.set(sessionId, session)
        recentlyLeft?.delete(sessionId)
        publish(session)
        logger.info({ sessionId }, 'session created')
        await connect(session)
        if (pairingPhoneNumber !== undefined) {
          try {
            await requestPairingCode(events, session, pairingPhoneNumber, qrWaitMs, logger)
          } catch (error) {
            // All or nothing: a retry of the same create must not find a half-made session.
            await forget(session)
            throw error
          }
        }
        return snapshotOf(session)
      })
    },

    get: (sessionId) => snapshotOf(find(sessionId)),

    list: () => [...sessions.values()].map(snapshotOf),

    async qr (sessionId) {
      const session = find(sessionId)
      assertNeedsLink(session)
      await ensureQrCycle(session)
      return await waitForQr(events, session, qrWaitMs)
    },

    currentQr (sessionId) {
      const session = find(sessionId)
      return session.status === 'qr' ? session.qr : null
    },

    async requestPairingCode (sessionId, phoneNumber) {
      const session = find(sessionId)
      assertNeedsLink(session)
      await ensureQrCycle(session)
      return await requestPairingCode(events, session, phoneNumber, qrWaitMs, logger)
    },

    async restart (sessionId) {
      const session = find(sessionId)
      return await withLock(sessionId, async () => {
        if (sessions.get(sessionId) !== session) throw notHere(sessionId)
        if (!session.linked && !waitingForScan(session)) assertRoomForPendingSession()
        await detach(session)
        session.reconnectAttempts = 0
        if (!session.linked) {
          // A pairing-code request writes the phone's number into the credentials before anyone
          // types the code; logging in with them gets 401 and would delete the session. A device
          // that never linked has nothing to keep: it starts a new link with fresh credentials.
          session.pairingCode = null
          await storage.erase(session)
        }
        setStatus(session, session.linked ? 'connecting' : 'initializing', 'restart requested')
        await connect(session)
        return snapshotOf(session)
      })
    },

    async remove (sessionId) {
      const session = find(sessionId)
      return await withLock(sessionId, async () => {
        if (sessions.get(sessionId) !== session) throw notHere(sessionId)
        const connection = session.connection
        const loggedOut = session.status === 'connected' && connection !== null
        if (loggedOut) {
          // Unlink on the phone too, so the device list there stays true.
          session.generation++
          session.connection = null
          await connection.logout()
        }
        await forget(session)
        logger.info({ sessionId, loggedOut }, 'session removed')
        return { loggedOut }
      })
    },

    connection: (sessionId) => openConnection(find(sessionId), Date.now()),

    restoreAll: restoreFolders,

    async closeAll () {
      closing = true
      await ownership?.stop()
      // The restore queue stops taking sessions; the sockets it already opened are closed below.
      await restoreQueue.stop()
      await Promise.all([...sessions.values()].map(async (session) => {
        await withLock(session.id, async () => {
          const lease = session.lease
          // Gone from this instance's hands before the status changes: the next holder writes it.
          session.lease = null
          await detach(session)
          setStatus(session, 'closed', 'service shutting down')
          // Released at once, so another instance takes the session over in its next round.
          if (lease !== null) await ownership?.release(lease).catch((error: unknown) => logger.warn({ sessionId: session.id, err: error }, 'releasing the lease failed'))
        })
      }))
      await metadata?.flush()
    },

    describeRestrictionWith: (describe) => { describeRestriction = describe },

    restrictionChanged (sessionId) {
      const session = sessions.get(sessionId)
      if (session !== undefined) publish(session)
    },

    counts: () => countSessions(sessions.values(), restoreQueue.progress())
  }
}

const degradedStatuses: SessionStatus[] = ['reconnecting', 'replaced', 'failed']

async function sessionRegistryPlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  await mkdir(config.authStateDirectory, { recursive: true, mode: 0o700 })
  const registry = createSessionRegistry({
    transport: fastify.transport,
    authStateDirectory: config.authStateDirectory,
    logger: fastify.log.child({ component: 'sessions' }) as Logger,
    restoreConcurrency: config.sessionRestoreConcurrency,
    restoreLoginTimeoutMs: config.whatsappConnectTimeoutMs,
    maxPendingSessions: config.sessionMaxPending,
    maxSessions: config.sessionMax,
    unlinkedSessionTtlMs: config.sessionUnlinkedTtlMs,
    reconnectMaxAttempts: config.reconnectMaxAttempts,
    reconnectBaseDelayMs: config.reconnectBaseDelayMs,
    reconnectMaxDelayMs: config.reconnectMaxDelayMs,
    ...(config.redisUrl === undefined
      ? {}
      : {
          shared: {
            store: fastify.stateStore,
            instanceId: config.instanceId,
            instanceUrl: config.instanceUrl,
            leaseMs: config.sessionLeaseMs
          }
        })
  })
  fastify.decorate('sessions', registry)
  fastify.healthChecks.add('sessions', () => {
    const { total, connected, waitingForScan, byStatus, restore } = registry.counts()
    const degraded = degradedStatuses.some((status) => (byStatus[status] ?? 0) > 0)
    return { status: degraded ? 'degraded' : 'ok', total, connected, waitingForScan, byStatus, restore }
  })
  // Restoring starts sockets: only once the app is really starting, never at import or build.
  // Only the listing is awaited (a directory read); the sockets open in the background, so
  // readiness never waits for WhatsApp, however many sessions there are.
  fastify.addHook('onReady', async () => {
    await registry.restoreAll()
  })
  fastify.addHook('onClose', async () => {
    await registry.closeAll()
  })
}

export default fp(sessionRegistryPlugin, { name: 'session-registry', fastify: '5.x', dependencies: ['transport', 'health', 'state-store'] })
