import type { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { errors, withRetryAfter } from './errors.js'
import type { Transport, WhatsAppConnection } from './whatsapp-connection.js'
import type { CloseKind, SessionEventMap } from './events.js'
import type { SessionStatus } from './session-status.js'
import type { Lease, StateStore } from './state/state-store.js'

// What the session registry shows the rest of the service, and what it keeps per session.

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

export interface SharedSessionsOptions {
  store: StateStore
  instanceId: string
  instanceUrl: string
  leaseMs: number
}

export interface SessionRegistryOptions {
  transport: Transport
  authStateDirectory: string
  logger: Logger
  restoreConcurrency: number
  // How long a restore worker waits for one login before it starts the next.
  restoreLoginTimeoutMs?: number
  // Sessions waiting for their first scan (each holds a socket and its credentials), and sessions in all.
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
  // REDIS_URL: credentials in the shared store, sockets opened only under the session's lease.
  shared?: SharedSessionsOptions
}

export interface SessionRegistry {
  // Where snapshots read a session's restriction; set by the restrictions plugin.
  describeRestrictionWith: (describe: (sessionId: string) => SessionRestriction | null) => void
  // The session's restriction changed: with REDIS_URL its holder writes it where the other
  // instances' sender pools read it.
  restrictionChanged: (sessionId: string) => void
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

export interface Session {
  id: string
  status: SessionStatus
  connection: WhatsAppConnection | null
  // Bumped whenever the session's socket is replaced or dropped on purpose; events of an older
  // socket are ignored, so a late close can never undo a restart or a delete.
  generation: number
  qr: string | null
  // The phone has linked this device: its credentials log in without a scan and are kept.
  linked: boolean
  // With REDIS_URL: this instance's lease on the session; its socket exists only while it is held.
  lease: Lease | null
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

export function newSession (sessionId: string, status: SessionStatus, linked: boolean, lease: Lease | null = null): Session {
  const now = new Date()
  return {
    id: sessionId,
    status,
    connection: null,
    generation: 0,
    qr: null,
    linked,
    lease,
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

export function snapshot (session: Session, restriction: SessionRestriction | null = null): SessionSnapshot {
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
    restriction
  }
}

export const waitingForScan = (session: Session): boolean =>
  !session.linked && (session.status === 'initializing' || session.status === 'qr' || session.status === 'connecting')

export function countSessions (sessions: Iterable<Session>, restore: RestoreProgress): SessionCounts {
  const byStatus: Partial<Record<SessionStatus, number>> = {}
  let total = 0
  let waiting = 0
  for (const session of sessions) {
    total++
    byStatus[session.status] = (byStatus[session.status] ?? 0) + 1
    if (waitingForScan(session)) waiting++
  }
  return { total, connected: byStatus.connected ?? 0, waitingForScan: waiting, byStatus, restore }
}

// Retry-After for a linked session on its way back.
const comingBackRetryAfterSeconds = 5

// The open connection of a connected session, for sending. A linked session on its way back
// (restore after a restart, a reconnect) is a temporary outage: 503 with when to try again, where
// a session that needs a person is a 409.
export function openConnection (session: Session, now: number): WhatsAppConnection {
  if (session.status === 'connected' && session.connection !== null) return session.connection
  if (session.linked && (session.status === 'connecting' || session.status === 'reconnecting')) {
    const retryAfterSeconds = session.nextReconnectAt === null
      ? comingBackRetryAfterSeconds
      : Math.max(1, Math.ceil((session.nextReconnectAt - now) / 1000))
    throw withRetryAfter(Object.assign(new errors.SESSION_NOT_CONNECTED(), { statusCode: 503 }), retryAfterSeconds)
  }
  throw new errors.SESSION_NOT_CONNECTED()
}
