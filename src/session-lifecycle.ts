import type { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { ConnectionClose, Transport, WhatsAppConnection } from './whatsapp-connection.js'
import { decideClose, reconnectDelay, willReconnect } from './session-close-policy.js'
import type { KeyedLock } from './session-lock.js'
import type { SessionStorage } from './session-storage.js'
import type { SessionEventMap } from './events.js'
import type { Session } from './session.js'
import type { SessionStatus } from './session-status.js'

// A session's socket from open to close: which events move it to which status, and what happens
// when WhatsApp closes it (src/session-close-policy.ts decides, this carries it out).
export interface SessionLifecycleOptions {
  transport: Transport
  storage: SessionStorage
  logger: Logger
  events: EventEmitter<SessionEventMap>
  sessions: Map<string, Session>
  withLock: KeyedLock
  reconnectMaxAttempts: number
  reconnectBaseDelayMs: number
  reconnectMaxDelayMs: number
  unlinkedSessionTtlMs: number
  random: () => number
  closing: () => boolean
  // After every status change (the shared store's metadata).
  changed: (session: Session) => void
  // A fenced credential write was refused: another instance holds the session's lease.
  leaseRefused: (sessionId: string) => void
  // After a session and its credentials are gone, before 'removed' is emitted.
  forgotten: (session: Session) => Promise<void>
}

export interface SessionLifecycle {
  setStatus: (session: Session, status: SessionStatus, reason: string) => void
  // Drops the current socket without logging out; its late events are ignored from now on.
  detach: (session: Session) => Promise<void>
  connect: (session: Session) => Promise<void>
  // Removes the session and its credentials: after this, only a new scan brings it back.
  forget: (session: Session) => Promise<void>
}

export function createSessionLifecycle (options: SessionLifecycleOptions): SessionLifecycle {
  const { transport, storage, logger, events, sessions, withLock } = options

  function setStatus (session: Session, status: SessionStatus, reason: string): void {
    const previous = session.status
    session.updatedAt = new Date()
    if (previous === status) return
    session.status = status
    logger.info({ sessionId: session.id, from: previous, to: status, reason }, 'session state changed')
    events.emit('state', { sessionId: session.id, status, previous, reason })
    options.changed(session)
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
    const { directory, lease } = storage.connectArguments(session)
    let connection: WhatsAppConnection
    try {
      connection = await transport.connect(session.id, directory, {
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
        restriction: (update) => {
          if (isCurrent()) events.emit('restriction', { sessionId: session.id, ...update })
        },
        messageReceived: (message) => {
          if (isCurrent()) events.emit('message-received', { sessionId: session.id, ...message })
        },
        leaseRefused: () => { if (isCurrent()) options.leaseRefused(session.id) }
      }, lease)
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
    session.lastDisconnect = {
      kind: close.kind,
      statusCode: close.statusCode ?? null,
      message: close.message,
      at: new Date().toISOString()
    }
    const reconnecting = willReconnect(close.kind, session.reconnectAttempts, options.reconnectMaxAttempts)
    // Worded as in the user's troubleshooting guide, which tells people to look for these lines.
    logger.info({ sessionId: session.id, kind: close.kind, statusCode: close.statusCode, reason: close.message, willReconnect: reconnecting }, `Connection closed untuk session ${session.id}. Reconnecting: ${String(reconnecting)}`)
    events.emit('disconnected', { sessionId: session.id, kind: close.kind, statusCode: close.statusCode ?? null, message: close.message, willReconnect: reconnecting })

    const decision = decideClose(close, session.reconnectAttempts, options.reconnectMaxAttempts)
    if (close.kind === 'qr-timeout') session.pairingCode = null
    if (decision.status !== undefined) setStatus(session, decision.status, decision.reason)
    switch (decision.action) {
      case 'reconnect-now':
        void connect(session)
        return
      case 'forget':
        void withLock(session.id, async () => {
          if (sessions.get(session.id) !== session) return
          await forget(session)
          events.emit('logged_out', { sessionId: session.id })
        })
        return
      case 'stop':
        if (close.kind === 'replaced') events.emit('replaced', { sessionId: session.id })
        else stoppedWithoutLink(session)
        return
      case 'reconnect-later':
        scheduleReconnect(session, decision.reason)
    }
  }

  function scheduleReconnect (session: Session, reason: string): void {
    session.reconnectAttempts++
    const delay = reconnectDelay(session.reconnectAttempts, options.reconnectBaseDelayMs, options.reconnectMaxDelayMs, options.random)
    setStatus(session, 'reconnecting', `${reason}; attempt ${session.reconnectAttempts} in ${delay} ms`)
    const generation = session.generation
    session.nextReconnectAt = Date.now() + delay
    session.reconnectTimer = setTimeout(() => {
      session.reconnectTimer = null
      session.nextReconnectAt = null
      if (session.generation !== generation || sessions.get(session.id) !== session || options.closing()) return
      void connect(session)
    }, delay)
  }

  // A session that never linked and stopped waiting for a scan keeps no credentials (they could
  // never log in), and leaves the list after unlinkedSessionTtlMs; asking for a QR before then
  // starts a new cycle.
  function stoppedWithoutLink (session: Session): void {
    if (session.linked) return
    const generation = session.generation
    const isStill = (): boolean => session.generation === generation && sessions.get(session.id) === session
    void withLock(session.id, async () => {
      if (isStill()) await storage.erase(session)
    }).catch((error: unknown) => logger.error({ sessionId: session.id, err: error }, 'deleting the credentials of an unlinked session failed'))
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

  // Removes the session and its credentials: after this, only a new scan brings it back.
  async function forget (session: Session): Promise<void> {
    await detach(session)
    // The credentials go before the listing, so a session missing from the list never still has
    // credentials (a restore or a caller polling the list would otherwise see both).
    await storage.erase(session)
    sessions.delete(session.id)
    await options.forgotten(session)
    events.emit('removed', { sessionId: session.id })
  }

  return { setStatus, detach, connect, forget }
}
