import { EventEmitter, once } from 'node:events'
import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { errors } from '../src/errors.js'
import { assertSessionId, isSessionId } from '../src/session-id.js'
import type { SessionStatus } from '../src/session-status.js'
import type { CloseKind, RestrictionUpdate, SessionEventMap } from '../src/events.js'
import type { ConnectionClose, Transport, WhatsAppConnection } from './transport.js'

export interface SessionSnapshot {
  sessionId: string
  status: SessionStatus
  isConnected: boolean
  user: { id: string, name: string | null } | null
  qrAvailable: boolean
  pairingCode: string | null
  reconnectAttempts: number
  lastDisconnect: { kind: CloseKind, statusCode: number | null, message: string, at: string } | null
  createdAt: string
  connectedAt: string | null
  updatedAt: string
  // Set while WhatsApp refuses this account's messages to new chats (see plugins/restrictions.ts).
  restriction?: SessionRestriction | null
}

export interface SessionRestriction {
  newChats: 'blocked'
  until: string | null
  reason: string
}

export interface SessionRegistryOptions {
  transport: Transport
  authStateDirectory: string
  logger: Logger
  restoreConcurrency: number
  // How long a restore worker waits for one login before it starts the next.
  restoreLoginTimeoutMs?: number
  // Sessions waiting for their first scan (each holds a socket and a folder), and sessions in all.
  maxPendingSessions: number
  maxSessions: number
  // How long a session that never linked stays listed after it stopped waiting for a scan.
  unlinkedSessionTtlMs: number
  reconnectMaxAttempts: number
  reconnectBaseDelayMs: number
  reconnectMaxDelayMs: number
  // How long a request for a QR or pairing code waits for WhatsApp to offer one.
  qrWaitMs?: number
  random?: () => number
}

export interface SessionRegistry {
  events: EventEmitter<SessionEventMap>
  // With a phone number, also asks for a pairing code; when that fails the session is not kept.
  create: (sessionId: string, pairingPhoneNumber?: string) => Promise<SessionSnapshot>
  get: (sessionId: string) => SessionSnapshot
  list: () => SessionSnapshot[]
  // Waits (bounded) for WhatsApp to offer a QR; starts a new QR cycle after a qr_timeout.
  qr: (sessionId: string) => Promise<string>
  // The QR on offer right now, without waiting.
  currentQr: (sessionId: string) => string | null
  requestPairingCode: (sessionId: string, phoneNumber: string) => Promise<string>
  restart: (sessionId: string) => Promise<SessionSnapshot>
  // Whether the device was logged out on the phone too (it was connected when removed).
  remove: (sessionId: string) => Promise<{ loggedOut: boolean }>
  // The open connection of a connected session, for sending; throws the troubleshooting guide's errors otherwise.
  connection: (sessionId: string) => WhatsAppConnection
  // Lists every linked session found on disk and deletes folders of devices that never linked,
  // then connects them in the background; resolves once they are listed, not once connected.
  restoreAll: () => Promise<number>
  closeAll: () => Promise<void>
  counts: () => SessionCounts
  // Where snapshots read a session's restriction; set by the restrictions plugin.
  describeRestrictionWith: (describe: (sessionId: string) => SessionRestriction | null) => void
}

export interface RestoreProgress {
  total: number
  done: number
  pending: number
}

export interface SessionCounts {
  total: number
  connected: number
  waitingForScan: number
  byStatus: Partial<Record<SessionStatus, number>>
  restore: RestoreProgress
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionRegistry
  }
}

// Retry-After for a linked session on its way back, and for a QR WhatsApp has not offered yet.
const comingBackRetryAfterSeconds = 5
// Waiting sessions free their place when scanned, deleted, or when their QR times out (about a minute).
const pendingRetryAfterSeconds = 60

function qrNotAvailable (sessionId: string): Error {
  return Object.assign(new errors.QR_NOT_AVAILABLE(sessionId), { retryAfterSeconds: comingBackRetryAfterSeconds })
}

// Exponential backoff with "equal jitter": never less than half the step, so a flapping network
// cannot turn into a reconnect storm, and never in lockstep across sessions.
export function reconnectDelay (attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** (attempt - 1))
  return Math.round(step / 2 + random() * (step / 2))
}

interface Session {
  id: string
  status: SessionStatus
  connection: WhatsAppConnection | null
  // Bumped whenever the session's socket is replaced or dropped on purpose; events of an older
  // socket are ignored, so a late close can never undo a restart or a delete.
  generation: number
  qr: string | null
  // The phone has linked this device: its credentials log in without a scan and are kept.
  linked: boolean
  // Forgets a session that never linked, some time after it stopped waiting for a scan.
  forgetTimer: NodeJS.Timeout | null
  user: { id: string, name: string | null } | null
  pairingCode: string | null
  reconnectAttempts: number
  reconnectTimer: NodeJS.Timeout | null
  nextReconnectAt: number | null
  lastDisconnect: SessionSnapshot['lastDisconnect']
  createdAt: Date
  connectedAt: Date | null
  updatedAt: Date
}

export function createSessionRegistry (options: SessionRegistryOptions): SessionRegistry {
  const { transport, authStateDirectory, logger } = options
  const qrWaitMs = options.qrWaitMs ?? 15_000
  const random = options.random ?? Math.random
  const sessions = new Map<string, Session>()
  const locks = new Map<string, Promise<unknown>>()
  const events = new EventEmitter<SessionEventMap>()
  const restoreProgress = { total: 0, done: 0 }
  let restoreRun: Promise<void> = Promise.resolve()
  // Shutdown ends the restore workers' waits for logins at once.
  const stopRestoreWaits = new Set<() => void>()
  // Waiting requests (qr-page, tests, webhooks) listen per session; more than ten is normal.
  events.setMaxListeners(0)
  let closing = false
  let describeRestriction: (sessionId: string) => SessionRestriction | null = () => null

  const directoryOf = (sessionId: string): string => join(authStateDirectory, sessionId)

  // One operation at a time per session id: concurrent create, restart and delete never race.
  async function withLock<T> (sessionId: string, operation: () => Promise<T>): Promise<T> {
    const previous = locks.get(sessionId) ?? Promise.resolve()
    const current = previous.catch(() => {}).then(operation)
    locks.set(sessionId, current)
    try {
      return await current
    } finally {
      if (locks.get(sessionId) === current) locks.delete(sessionId)
    }
  }

  function snapshot (session: Session): SessionSnapshot {
    return {
      sessionId: session.id,
      status: session.status,
      isConnected: session.status === 'connected',
      user: session.user,
      qrAvailable: session.status === 'qr' && session.qr !== null,
      pairingCode: session.status === 'qr' ? session.pairingCode : null,
      reconnectAttempts: session.reconnectAttempts,
      lastDisconnect: session.lastDisconnect,
      createdAt: session.createdAt.toISOString(),
      connectedAt: session.connectedAt?.toISOString() ?? null,
      updatedAt: session.updatedAt.toISOString(),
      restriction: describeRestriction(session.id)
    }
  }

  function setStatus (session: Session, status: SessionStatus, reason: string): void {
    const previous = session.status
    session.updatedAt = new Date()
    if (previous === status) return
    session.status = status
    logger.info({ sessionId: session.id, from: previous, to: status, reason }, 'session state changed')
    events.emit('state', { sessionId: session.id, status, previous, reason })
  }

  function find (sessionId: string): Session {
    assertSessionId(sessionId)
    const session = sessions.get(sessionId)
    if (session === undefined) throw new errors.SESSION_NOT_FOUND(sessionId)
    return session
  }

  function newSession (sessionId: string, status: SessionStatus, linked: boolean): Session {
    const now = new Date()
    return {
      id: sessionId,
      status,
      connection: null,
      generation: 0,
      qr: null,
      linked,
      forgetTimer: null,
      user: null,
      pairingCode: null,
      reconnectAttempts: 0,
      reconnectTimer: null,
      nextReconnectAt: null,
      lastDisconnect: null,
      createdAt: now,
      connectedAt: null,
      updatedAt: now
    }
  }

  // Drops the current socket without logging out; its late events are ignored from now on.
  async function detach (session: Session): Promise<void> {
    session.generation++
    if (session.reconnectTimer !== null) clearTimeout(session.reconnectTimer)
    if (session.forgetTimer !== null) clearTimeout(session.forgetTimer)
    session.reconnectTimer = null
    session.forgetTimer = null
    session.nextReconnectAt = null
    const connection = session.connection
    session.connection = null
    session.qr = null
    if (connection !== null) await connection.close()
  }

  async function connect (session: Session): Promise<void> {
    const generation = ++session.generation
    const isCurrent = (): boolean => session.generation === generation && sessions.get(session.id) === session
    let connection: WhatsAppConnection
    try {
      connection = await transport.connect(session.id, directoryOf(session.id), {
        qr: (qr) => {
          if (!isCurrent()) return
          session.qr = qr
          setStatus(session, 'qr', 'WhatsApp offered a QR code')
          events.emit('qr', { sessionId: session.id, qr })
        },
        paired: () => {
          if (!isCurrent()) return
          // The phone confirmed the link: from here the credentials are worth keeping, even if
          // the first login fails.
          session.linked = true
          session.qr = null
          session.pairingCode = null
          setStatus(session, 'connecting', 'phone linked this device; WhatsApp will ask for a restart')
        },
        open: (user) => {
          if (!isCurrent()) return
          session.linked = true
          session.user = user
          session.qr = null
          session.pairingCode = null
          session.reconnectAttempts = 0
          session.connectedAt = new Date()
          setStatus(session, 'connected', 'connection open')
          events.emit('connected', { sessionId: session.id, user })
        },
        close: (close) => {
          if (!isCurrent()) return
          session.connection = null
          handleClose(session, close)
        },
        messageStatus: (update) => {
          if (isCurrent()) events.emit('message-status', { sessionId: session.id, ...update })
        },
        messageReceived: (message) => {
          if (isCurrent()) events.emit('message-received', { sessionId: session.id, ...message })
        },
        restriction: (update) => {
          if (isCurrent()) events.emit('restriction', { sessionId: session.id, ...update })
        }
      })
    } catch (error) {
      if (!isCurrent()) return
      logger.error({ sessionId: session.id, err: error }, 'opening the WhatsApp connection failed')
      session.lastDisconnect = { kind: 'connection-lost', statusCode: null, message: (error as Error).message, at: new Date().toISOString() }
      setStatus(session, 'failed', (error as Error).message)
      stoppedWithoutLink(session)
      return
    }
    if (!isCurrent()) {
      await connection.close()
      return
    }
    session.connection = connection
  }

  function handleClose (session: Session, close: ConnectionClose): void {
    session.qr = null
    session.lastDisconnect = { kind: close.kind, statusCode: close.statusCode ?? null, message: close.message, at: new Date().toISOString() }
    const willReconnect = close.kind === 'restart-required' ||
      (close.kind === 'connection-lost' && session.reconnectAttempts < options.reconnectMaxAttempts)
    // Worded as in the user's troubleshooting guide, which tells people to look for these lines.
    logger.info({ sessionId: session.id, kind: close.kind, statusCode: close.statusCode, reason: close.message, willReconnect }, `Connection closed untuk session ${session.id}. Reconnecting: ${String(willReconnect)}`)
    events.emit('disconnected', { sessionId: session.id, kind: close.kind, statusCode: close.statusCode ?? null, message: close.message, willReconnect })

    switch (close.kind) {
      case 'restart-required':
        // Normal right after a scan: the same credentials log in on a new socket, no new scan.
        setStatus(session, 'connecting', 'WhatsApp asked for a restart (515)')
        void connect(session)
        return
      case 'logged-out':
        setStatus(session, 'logged_out', 'the phone removed this device (401)')
        void withLock(session.id, async () => {
          if (sessions.get(session.id) !== session) return
          await forget(session)
          events.emit('logged_out', { sessionId: session.id })
        })
        return
      case 'replaced':
        setStatus(session, 'replaced', 'another client took over this session (440)')
        events.emit('replaced', { sessionId: session.id })
        return
      case 'qr-timeout':
        session.pairingCode = null
        setStatus(session, 'qr_timeout', 'nobody scanned the QR code in time')
        stoppedWithoutLink(session)
        return
      case 'forbidden':
      case 'multidevice-mismatch':
        setStatus(session, 'failed', `${close.message} (${close.statusCode ?? 'no status'})`)
        stoppedWithoutLink(session)
        return
      case 'connection-lost':
        if (!willReconnect) {
          setStatus(session, 'failed', `gave up after ${session.reconnectAttempts} reconnect attempts: ${close.message}`)
          stoppedWithoutLink(session)
          return
        }
        scheduleReconnect(session, close)
    }
  }

  function scheduleReconnect (session: Session, close: ConnectionClose): void {
    session.reconnectAttempts++
    const delay = reconnectDelay(session.reconnectAttempts, options.reconnectBaseDelayMs, options.reconnectMaxDelayMs, random)
    setStatus(session, 'reconnecting', `${close.message} (${close.statusCode ?? 'no status'}); attempt ${session.reconnectAttempts} in ${delay} ms`)
    const generation = session.generation
    session.nextReconnectAt = Date.now() + delay
    session.reconnectTimer = setTimeout(() => {
      session.reconnectTimer = null
      session.nextReconnectAt = null
      if (session.generation !== generation || sessions.get(session.id) !== session || closing) return
      void connect(session)
    }, delay)
  }

  // A session that never linked and stopped waiting for a scan keeps nothing on disk (its
  // credentials could never log in), and leaves the list after unlinkedSessionTtlMs; asking for a
  // QR before then starts a new cycle.
  function stoppedWithoutLink (session: Session): void {
    if (session.linked) return
    const generation = session.generation
    const isStill = (): boolean => session.generation === generation && sessions.get(session.id) === session
    void withLock(session.id, async () => {
      if (isStill()) await rm(directoryOf(session.id), { recursive: true, force: true })
    }).catch((error: unknown) => logger.error({ sessionId: session.id, err: error }, 'deleting the folder of an unlinked session failed'))
    session.forgetTimer = setTimeout(() => {
      session.forgetTimer = null
      void withLock(session.id, async () => {
        if (!isStill()) return
        await forget(session)
        logger.info({ sessionId: session.id }, 'unlinked session forgotten')
      })
    }, options.unlinkedSessionTtlMs)
    session.forgetTimer.unref()
  }

  // Resolves when the session's login ends, either way, or after the connect timeout; the
  // listeners are set before the login starts, so no outcome is missed.
  function loginSettled (sessionId: string): { wait: () => Promise<void>, cancel: () => void } {
    let finish: () => void = () => {}
    const done = new Promise<void>((resolve) => { finish = resolve })
    const onEvent = (event: { sessionId: string }): void => { if (event.sessionId === sessionId) finish() }
    events.on('connected', onEvent)
    events.on('disconnected', onEvent)
    const timer = setTimeout(finish, options.restoreLoginTimeoutMs ?? 20_000)
    const cancel = (): void => {
      clearTimeout(timer)
      events.off('connected', onEvent)
      events.off('disconnected', onEvent)
      finish()
    }
    stopRestoreWaits.add(cancel)
    return { wait: async () => await done, cancel: () => { stopRestoreWaits.delete(cancel); cancel() } }
  }

  const waitingForScan = (session: Session): boolean =>
    !session.linked && (session.status === 'initializing' || session.status === 'qr' || session.status === 'connecting')

  function assertRoomForPendingSession (): void {
    let waiting = 0
    for (const session of sessions.values()) if (waitingForScan(session)) waiting++
    if (waiting >= options.maxPendingSessions) {
      throw Object.assign(new errors.SESSION_PENDING_LIMIT(options.maxPendingSessions), { retryAfterSeconds: pendingRetryAfterSeconds })
    }
  }

  // Removes the session and its credentials: after this, only a new scan brings it back.
  async function forget (session: Session): Promise<void> {
    await detach(session)
    // The folder goes before the listing, so a session missing from the list never still has
    // credentials on disk (a restore or a caller polling the list would otherwise see both).
    await rm(directoryOf(session.id), { recursive: true, force: true })
    sessions.delete(session.id)
    events.emit('removed', { sessionId: session.id })
  }

  async function waitForQr (session: Session): Promise<string> {
    if (session.status === 'qr' && session.qr !== null) return session.qr
    const signal = AbortSignal.timeout(qrWaitMs)
    try {
      while (true) {
        const [event] = await once(events, 'qr', { signal }) as SessionEventMap['qr']
        if (event.sessionId === session.id) return event.qr
      }
    } catch {
      throw qrNotAvailable(session.id)
    }
  }

  // WhatsApp accepts a pairing-code request once the socket is ready to register, which is when
  // it offers the first QR.
  async function pairingCode (session: Session, phoneNumber: string): Promise<string> {
    await waitForQr(session)
    const connection = session.connection
    if (connection === null) throw qrNotAvailable(session.id)
    try {
      session.pairingCode = await connection.requestPairingCode(phoneNumber)
    } catch (error) {
      throw Object.assign(new errors.PAIRING_CODE_FAILED((error as Error).message), { retryAfterSeconds: comingBackRetryAfterSeconds })
    }
    logger.info({ sessionId: session.id }, 'pairing code requested')
    return session.pairingCode
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

  return {
    events,

    async create (sessionId, pairingPhoneNumber) {
      assertSessionId(sessionId)
      return await withLock(sessionId, async () => {
        if (sessions.has(sessionId) || await transport.hasLinkedCredentials(directoryOf(sessionId))) throw new errors.SESSION_EXISTS(sessionId)
        if (sessions.size >= options.maxSessions) throw new errors.SESSION_LIMIT(options.maxSessions)
        assertRoomForPendingSession()
        // Whatever a device that never linked left here cannot log in: linking starts afresh.
        await rm(directoryOf(sessionId), { recursive: true, force: true })
        await mkdir(directoryOf(sessionId), { recursive: true, mode: 0o700 })
        const session = newSession(sessionId, 'initializing', false)
        sessions.set(sessionId, session)
        logger.info({ sessionId }, 'session created')
        await connect(session)
        if (pairingPhoneNumber !== undefined) {
          try {
            await pairingCode(session, pairingPhoneNumber)
          } catch (error) {
            // All or nothing: a retry of the same create must not find a half-made session.
            await forget(session)
            throw error
          }
        }
        return snapshot(session)
      })
    },

    get: (sessionId) => snapshot(find(sessionId)),

    list: () => [...sessions.values()].map(snapshot),

    async qr (sessionId) {
      const session = find(sessionId)
      assertNeedsLink(session)
      await ensureQrCycle(session)
      return await waitForQr(session)
    },

    currentQr (sessionId) {
      const session = find(sessionId)
      return session.status === 'qr' ? session.qr : null
    },

    async requestPairingCode (sessionId, phoneNumber) {
      const session = find(sessionId)
      assertNeedsLink(session)
      await ensureQrCycle(session)
      return await pairingCode(session, phoneNumber)
    },

    async restart (sessionId) {
      const session = find(sessionId)
      return await withLock(sessionId, async () => {
        if (sessions.get(sessionId) !== session) throw new errors.SESSION_NOT_FOUND(sessionId)
        if (!session.linked && !waitingForScan(session)) assertRoomForPendingSession()
        await detach(session)
        session.reconnectAttempts = 0
        if (!session.linked) {
          // A pairing-code request writes the phone's number into the credentials before anyone
          // types the code; logging in with them gets 401 and would delete the session. A device
          // that never linked has nothing to keep: it starts a new link with fresh credentials.
          session.pairingCode = null
          await rm(directoryOf(sessionId), { recursive: true, force: true })
        }
        setStatus(session, session.linked ? 'connecting' : 'initializing', 'restart requested')
        await connect(session)
        return snapshot(session)
      })
    },

    async remove (sessionId) {
      const session = find(sessionId)
      return await withLock(sessionId, async () => {
        if (sessions.get(sessionId) !== session) throw new errors.SESSION_NOT_FOUND(sessionId)
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

    connection (sessionId) {
      const session = find(sessionId)
      if (session.status === 'connected' && session.connection !== null) return session.connection
      // A linked session on its way back (restore after a restart, a reconnect) is a temporary
      // outage: 503 with when to try again, where a session that needs a person is a 409.
      if (session.linked && (session.status === 'connecting' || session.status === 'reconnecting')) {
        const retryAfterSeconds = session.nextReconnectAt === null
          ? comingBackRetryAfterSeconds
          : Math.max(1, Math.ceil((session.nextReconnectAt - Date.now()) / 1000))
        throw Object.assign(new errors.SESSION_NOT_CONNECTED(), { statusCode: 503, retryAfterSeconds })
      }
      throw new errors.SESSION_NOT_CONNECTED()
    },

    async restoreAll () {
      const entries = await readdir(authStateDirectory, { withFileTypes: true }).catch(() => [])
      const queue: Session[] = []
      for (const entry of entries) {
        if (!entry.isDirectory() || !isSessionId(entry.name) || sessions.has(entry.name)) continue
        if (!await transport.hasLinkedCredentials(directoryOf(entry.name))) {
          // A device that never linked (the service stopped while it waited for a scan).
          await rm(directoryOf(entry.name), { recursive: true, force: true })
          logger.info({ sessionId: entry.name }, 'removed the folder of a session that never linked')
          continue
        }
        const session = newSession(entry.name, 'connecting', true)
        sessions.set(entry.name, session)
        queue.push(session)
      }
      restoreProgress.total += queue.length
      // Bounded, so a host with many sessions does not open every socket in the same instant;
      // in the background, so the API answers (503 with Retry-After for these) meanwhile.
      const worker = async (): Promise<void> => {
        // Opening a socket is a burst of synchronous work; yielding before each one lets requests
        // waiting in the event loop (the first ones right after start, too) go first.
        for (let session = queue.shift(); session !== undefined && !closing; session = queue.shift()) {
          await new Promise((resolve) => setImmediate(resolve))
          if (closing) break
          const queued = session
          // A socket is created at once but logs in afterwards: the next one starts when this
          // one is open or closed, so no more than restoreConcurrency handshakes run together.
          const settled = loginSettled(queued.id)
          await withLock(queued.id, async () => {
            if (closing || sessions.get(queued.id) !== queued || queued.connection !== null) return
            await connect(queued)
          }).catch((error: unknown) => logger.error({ sessionId: queued.id, err: error }, 'restoring the session failed'))
          if (queued.status === 'connecting') await settled.wait()
          settled.cancel()
          restoreProgress.done++
        }
      }
      const started = Date.now()
      const total = queue.length
      restoreRun = Promise.all(Array.from({ length: Math.min(options.restoreConcurrency, queue.length) }, worker)).then(() => {
        logger.info({ restored: total, ms: Date.now() - started }, 'sessions restored from disk')
      })
      return total
    },

    async closeAll () {
      closing = true
      // The restore queue stops taking sessions; the sockets it already opened are closed below.
      for (const stop of stopRestoreWaits) stop()
      await restoreRun
      await Promise.all([...sessions.values()].map(async (session) => {
        await withLock(session.id, async () => {
          await detach(session)
          setStatus(session, 'closed', 'service shutting down')
        })
      }))
    },

    describeRestrictionWith (describe) {
      describeRestriction = describe
    },

    counts () {
      const byStatus: Partial<Record<SessionStatus, number>> = {}
      let waiting = 0
      for (const session of sessions.values()) {
        byStatus[session.status] = (byStatus[session.status] ?? 0) + 1
        if (waitingForScan(session)) waiting++
      }
      return {
        total: sessions.size,
        connected: byStatus.connected ?? 0,
        waitingForScan: waiting,
        byStatus,
        restore: { ...restoreProgress, pending: restoreProgress.total - restoreProgress.done }
      }
    }
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
    reconnectMaxDelayMs: config.reconnectMaxDelayMs
  })
  fastify.decorate('sessions', registry)
  fastify.healthChecks.add('sessions', () => {
    const counts = registry.counts()
    const degraded = degradedStatuses.some((status) => (counts.byStatus[status] ?? 0) > 0)
    return { status: degraded ? 'degraded' : 'ok', ...counts }
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

export default fp(sessionRegistryPlugin, { name: 'session-registry', fastify: '5.x', dependencies: ['transport', 'health'] })
