import type { SessionStatus } from '../session-status.js'
import type { SessionRestriction } from '../session.js'

// The one interface every piece of durable state goes through. Two implementations: embedded
// (lmdb in DATA_DIR and AUTH_STATE_DIR, one process) and Redis (several instances). Values are
// plain JSON data; times are milliseconds since the epoch.

// Keyed records that expire: OTP records (by phone number), message statuses (by session and
// message id), verifications (by id), contents of recently sent messages (by session and message
// id, for WhatsApp's resend requests).
export const recordKinds = ['otp', 'message-status', 'verification', 'sent-message'] as const
export type RecordKind = typeof recordKinds[number]

export interface RecordChange<Value, Result> {
  // `undefined` deletes the record.
  value: Value | undefined
  result: Result
  // When the record stops existing; omitted, it never expires.
  expiresAt?: number
}

// `change` is synchronous and pure: the Redis store may run it again when another instance wrote
// the record in between (compare-and-set), the embedded store runs it inside a write transaction.
// If it throws, nothing is written and update rejects with that error. On Redis, when nothing is
// stored and `change` stores nothing (a verify for a number without a code), the read is the
// answer: a flood of such calls costs one GET each. The embedded store keeps its transaction:
// one that changes nothing writes no page, and answering outside it measured slower under load
// (the answers no longer go out together with the batch).
export type RecordChanger<Value, Result> = (current: Value | undefined) => RecordChange<Value, Result>

export interface RecordCollection<Value> {
  get: (key: string) => Promise<Value | undefined>
  // One atomic read-modify-write of one record, across every instance.
  update: <Result>(key: string, change: RecordChanger<Value, Result>) => Promise<Result>
  delete: (key: string) => Promise<void>
}

// What outlives a session's socket; never expires, listed at start.
export interface SessionMetadata {
  sessionId: string
  createdAt: string
  // The linked account, once known.
  user: { id: string, name: string | null } | null
  // Set when the session's credentials came from a folder in AUTH_STATE_DIR.
  importedAt?: string
  // Written by the lease holder on each change, so any instance can answer list and status.
  // A session not yet linked (waiting for its first scan) is never taken over by another instance.
  linked?: boolean
  status?: SessionStatus
  // The instance that holds the lease (as it last wrote; the lease itself says who holds it now).
  holder?: string
  updatedAt?: string
  // Set while WhatsApp keeps the account from new chats (as its holder last wrote it).
  restriction?: SessionRestriction | null
}

export interface SessionMetadataCollection extends RecordCollection<SessionMetadata> {
  list: () => Promise<SessionMetadata[]>
}

// A webhook request that has to reach its URL once, whichever instance sends it.
export interface WebhookDelivery {
  id: string
  event: string
  url: string
  body: string
  attempts: number
  createdAt: number
  nextAttemptAt: number
}

export interface ClaimedWebhookDelivery extends WebhookDelivery {
  // Proves the claim in extend, ack, retry and fail: a claim whose lease ran out (its instance died or
  // stalled) was handed to another instance, and the late answer of the first one is ignored.
  claimToken: string
}

export interface WebhookDeliveryStats {
  // Every delivery not yet delivered or failed.
  pending: number
  // Pending deliveries that failed at least once.
  retrying: number
  delivered: number
  failed: number
}

export interface WebhookDeliveryQueue {
  enqueue: (delivery: WebhookDelivery) => Promise<void>
  // Up to `limit` deliveries due now (next attempt reached, no live claim), each hidden from other
  // claims for `leaseMs`; a claimed delivery neither extended, acked, retried nor failed in time is
  // due again.
  claim: (limit: number, leaseMs: number) => Promise<ClaimedWebhookDelivery[]>
  // Each returns false when the claim is no longer valid (expired and claimed elsewhere, or settled).
  // extend hides the delivery for `leaseMs` from now, while its request is in flight.
  extend: (delivery: ClaimedWebhookDelivery, leaseMs: number) => Promise<boolean>
  ack: (delivery: ClaimedWebhookDelivery) => Promise<boolean>
  retry: (delivery: ClaimedWebhookDelivery, nextAttemptAt: number) => Promise<boolean>
  fail: (delivery: ClaimedWebhookDelivery) => Promise<boolean>
  // When the next pending delivery becomes due (a claim's end counts), for a timer; undefined when none.
  nextDueAt: () => Promise<number | undefined>
  stats: () => Promise<WebhookDeliveryStats>
}

// Who may open a session's socket and write its credentials. The epoch grows with every
// acquisition, so a holder that lost the lease (paused past its end, cut off) carries a stale
// epoch and every write it tries is refused.
export interface Lease {
  sessionId: string
  instanceId: string
  epoch: number
}

export interface LeaseHolder extends Lease {
  expiresAt: number
}

export interface LeaseStore {
  // undefined when another instance holds a live lease.
  acquire: (sessionId: string, instanceId: string, leaseMs: number) => Promise<Lease | undefined>
  // false when the lease was lost: the holder must close the socket (without logging out).
  renew: (lease: Lease, leaseMs: number) => Promise<boolean>
  release: (lease: Lease) => Promise<void>
  holder: (sessionId: string) => Promise<LeaseHolder | undefined>
}

export interface InstanceInfo {
  instanceId: string
  url: string
}

export interface InstanceRegistry {
  // Marks the instance live for `ttlMs`; called again before that runs out.
  heartbeat: (instance: InstanceInfo, ttlMs: number) => Promise<void>
  remove: (instanceId: string) => Promise<void>
  live: () => Promise<InstanceInfo[]>
}

// Credentials and signal keys are kept as text made by the caller's codec (WhatsApp's own
// BufferJSON), so the store never depends on the WhatsApp library.
export interface AuthStateWrite {
  credentials?: string
  // category -> id -> serialized key, or null to delete it.
  keys?: Record<string, Record<string, string | null>>
}

export interface AuthStateStore {
  readCredentials: (sessionId: string) => Promise<string | undefined>
  readKeys: (sessionId: string, category: string, ids: string[]) => Promise<Record<string, string>>
  // Atomic: all of it or nothing, and only while `lease` is the session's live lease; otherwise
  // it throws StaleLeaseError and writes nothing.
  write: (sessionId: string, lease: Lease, changes: AuthStateWrite) => Promise<void>
  // Deletes the session's credentials and keys (logout, removal). Fenced like write.
  delete: (sessionId: string, lease: Lease) => Promise<void>
}

// The chats each session has (plugins/restrictions.ts decides what counts and for how long): per
// session, the numbers it chats with, each until a time. A kind of its own rather than a
// RecordCollection: the sender pool asks about several sessions at once, and a removed session's
// chats go in one step.
// Who wrote in the chat: `contact` (the number wrote to the account, which gave it the contact's
// privacy token) or only `account` (the account wrote to the number).
export type ChatOrigin = 'contact' | 'account'

export interface ChatStore {
  // Remembers that the session chats with the number until `expiresAt` (a later time kept if one
  // is stored), and for `contact`, that the number wrote. True when the chat is new: not
  // remembered, or remembered only until `now` or before, whoever wrote.
  record: (sessionId: string, phone: string, expiresAt: number, origin: ChatOrigin) => Promise<boolean>
  // Those of `sessionIds` that chat with the number now, each with `contact` when the number wrote
  // (until that chat's own end), else `account`: one read however many sessions.
  sessionsChattingWith: (phone: string, sessionIds: string[]) => Promise<Map<string, ChatOrigin>>
  // Every chat of the session (deleted, logged out).
  forgetSession: (sessionId: string) => Promise<void>
}

export interface StateStore {
  records: <Value>(kind: RecordKind) => RecordCollection<Value>
  chats: ChatStore
  sessions: SessionMetadataCollection
  webhookDeliveries: WebhookDeliveryQueue
  leases: LeaseStore
  instances: InstanceRegistry
  authState: AuthStateStore
  close: () => Promise<void>
}

export class StaleLeaseError extends Error {
  constructor (readonly sessionId: string, readonly instanceId: string, readonly epoch: number) {
    super(`instance ${instanceId} no longer holds the lease of session ${sessionId} at epoch ${epoch}; write refused`)
    this.name = 'StaleLeaseError'
  }
}

// The shared store cannot be reached (Redis down, network cut). Callers answer 503
// STATE_STORE_UNAVAILABLE; the store reconnects on its own.
export class StateStoreUnavailableError extends Error {
  constructor (cause: unknown) {
    super(`state store unavailable: ${(cause as Error).message}`, { cause })
    this.name = 'StateStoreUnavailableError'
  }
}

// Both stores compose their keys with ':' and '/'; session ids, key categories and record kinds
// never contain them.
export class InvalidStateKeyError extends Error {
  constructor (name: string, value: string) {
    super(`${name} ${JSON.stringify(value)} is not usable in a state key`)
    this.name = 'InvalidStateKeyError'
  }
}

export function assertKeyPart (name: string, value: string): void {
  if (!/^[A-Za-z0-9_.@+-]+$/.test(value)) throw new InvalidStateKeyError(name, value)
}
