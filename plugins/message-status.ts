import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { DeliveryStatus, MessageSenderEventMap, MessageStatus, MessageStatusChange, MessageStatusEventMap, TrackedMessage } from '../src/events.js'
import type { RecordCollection } from '../src/state/state-store.js'

// The message sender's 'sent' event; the jid is not kept.
type SentMessage = Omit<MessageSenderEventMap['sent'][0], 'jid'>

export interface StatusUpdate {
  sessionId: string
  messageId: string
  status: MessageStatus
}

export interface MessageStatusTrackerOptions {
  // records('message-status') of the state store: statuses outlive a restart and are read by
  // every instance.
  records: RecordCollection<StoredMessageStatus>
  ttlMs?: number
  clock?: () => number
}

export interface MessageStatusTracker {
  events: EventEmitter<MessageStatusEventMap>
  recordSent: (message: SentMessage) => Promise<void>
  recordStatus: (update: StatusUpdate) => Promise<void>
  get: (sessionId: string, messageId: string) => Promise<TrackedMessage | undefined>
}

// One stored record per message. A receipt can be handled before the sender reports the message
// as sent (both arrive as events, in no guaranteed order, maybe on different instances); it waits
// in `early` briefly instead of being lost.
export interface StoredMessageStatus {
  message?: TrackedMessage
  early: Array<{ status: DeliveryStatus, at: string }>
  // Kept in the value too: an update that changes nothing must write the same expiry back.
  expiresAt: number
}

declare module 'fastify' {
  interface FastifyInstance {
    messageStatus: MessageStatusTracker
  }
}

// Statuses only move forward. 'failed' (WhatsApp's error ack) can only follow 'sent': a message
// already delivered stays delivered.
const progress: Record<DeliveryStatus, number> = { sent: 1, delivered: 2, read: 3, failed: 2 }

function deliveryStatusOf (status: MessageStatus): DeliveryStatus | undefined {
  switch (status) {
    case 'pending': return undefined
    // A played voice note or video was read first.
    case 'played': return 'read'
    default: return status
  }
}

function keyOf (sessionId: string, messageId: string): string {
  // Session ids never contain ':' (see assertSessionId).
  return `${sessionId}:${messageId}`
}

const earlyStatusTtlMs = 60_000

export function createMessageStatusTracker (options: MessageStatusTrackerOptions): MessageStatusTracker {
  const { records, ttlMs = 24 * 60 * 60 * 1000, clock = Date.now } = options
  const events = new EventEmitter<MessageStatusEventMap>()

  // Pure: runs inside the store's atomic update, maybe more than once.
  function advance (message: TrackedMessage, status: DeliveryStatus, time: string): boolean {
    if (progress[status] <= progress[message.status]) return false
    if (status === 'failed' && message.status !== 'sent') return false
    message.status = status
    if (status === 'delivered') message.deliveredAt = time
    if (status === 'failed') message.failedAt = time
    if (status === 'read') {
      message.readAt = time
      // WhatsApp may send only the read receipt; reading implies delivery.
      message.deliveredAt ??= time
    }
    return true
  }

  function emitChanges (changes: MessageStatusChange[]): void {
    for (const change of changes) events.emit('change', change)
  }

  return {
    events,

    async recordSent ({ sessionId, messageId, to, type, at }) {
      const changes = await records.update<MessageStatusChange[]>(keyOf(sessionId, messageId), (stored) => {
        // Each message is reported once (the sender reports OTP messages with type 'otp'); a repeat changes nothing.
        if (stored?.message !== undefined) return { value: stored, result: [], expiresAt: stored.expiresAt }
        const sentAt = at.toISOString()
        const message: TrackedMessage = {
          messageId, sessionId, to, type, status: 'sent', sentAt, deliveredAt: null, readAt: null, failedAt: null
        }
        const changed: MessageStatusChange[] = [{ message: { ...message }, at: sentAt }]
        for (const early of stored?.early ?? []) {
          if (advance(message, early.status, early.at)) changed.push({ message: { ...message }, at: early.at })
        }
        const expiresAt = clock() + ttlMs
        return { value: { message, early: [], expiresAt }, result: changed, expiresAt }
      })
      emitChanges(changes)
    },

    async recordStatus ({ sessionId, messageId, status }) {
      const deliveryStatus = deliveryStatusOf(status)
      if (deliveryStatus === undefined) return
      const at = new Date(clock()).toISOString()
      const changes = await records.update<MessageStatusChange[]>(keyOf(sessionId, messageId), (stored) => {
        if (stored?.message === undefined) {
          const early = [...(stored?.early ?? []), { status: deliveryStatus, at }]
          const expiresAt = clock() + earlyStatusTtlMs
          return { value: { early, expiresAt }, result: [], expiresAt }
        }
        const message = stored.message
        if (!advance(message, deliveryStatus, at)) return { value: stored, result: [], expiresAt: stored.expiresAt }
        // A change renews the record's age: a message still moving is still of interest.
        const expiresAt = clock() + ttlMs
        return { value: { message, early: [], expiresAt }, result: [{ message: { ...message }, at }], expiresAt }
      })
      emitChanges(changes)
    },

    async get (sessionId, messageId) {
      return (await records.get(keyOf(sessionId, messageId)))?.message
    }
  }
}

async function messageStatusPlugin (fastify: FastifyInstance): Promise<void> {
  const tracker = createMessageStatusTracker({ records: fastify.stateStore.records<StoredMessageStatus>('message-status') })
  const log = fastify.log.child({ component: 'message-status' })

  // Events call these without waiting: a failed write is logged, and writes still running at
  // shutdown finish before the state store closes (its onClose runs after this one).
  const pending = new Set<Promise<void>>()
  async function track (write: Promise<void>): Promise<void> {
    const settled: Promise<void> = write
      .catch((error: unknown) => { log.error({ err: error }, 'message status not stored') })
      .finally(() => pending.delete(settled))
    pending.add(settled)
    await settled
  }
  fastify.decorate('messageStatus', {
    ...tracker,
    recordSent: async (message) => { await track(tracker.recordSent(message)) },
    recordStatus: async (update) => { await track(tracker.recordStatus(update)) }
  } satisfies MessageStatusTracker)
  fastify.addHook('onClose', async () => {
    await Promise.all(pending)
  })
}

export default fp(messageStatusPlugin, { name: 'message-status', fastify: '5.x', dependencies: ['state-store'] })
