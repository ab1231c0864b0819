import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ExpiringMap } from '../src/expiring-map.js'
import type { DeliveryStatus, MessageSenderEventMap, MessageStatus, MessageStatusEventMap, TrackedMessage } from '../src/events.js'

export interface StatusUpdate {
  sessionId: string
  messageId: string
  status: MessageStatus
}

export interface MessageStatusTrackerOptions {
  maxMessages?: number
  ttlMs?: number
  clock?: () => number
}

export interface MessageStatusTracker {
  events: EventEmitter<MessageStatusEventMap>
  // Takes the message sender's 'sent' event; the jid is not kept.
  recordSent: (message: Omit<MessageSenderEventMap['sent'][0], 'jid'>) => void
  recordStatus: (update: StatusUpdate) => void
  get: (sessionId: string, messageId: string) => TrackedMessage | undefined
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

export function createMessageStatusTracker (options: MessageStatusTrackerOptions = {}): MessageStatusTracker {
  const { maxMessages = 10_000, ttlMs = 24 * 60 * 60 * 1000, clock = Date.now } = options
  const messages = new ExpiringMap<string, TrackedMessage>(maxMessages, ttlMs, clock)
  // A receipt can be handled before the sender reports the message as sent (both arrive as
  // events, in no guaranteed order); it waits here briefly instead of being lost.
  const earlyStatuses = new ExpiringMap<string, Array<{ status: DeliveryStatus, at: Date }>>(1000, 60_000, clock)
  const events = new EventEmitter<MessageStatusEventMap>()

  function advance (message: TrackedMessage, status: DeliveryStatus, at: Date): boolean {
    if (progress[status] <= progress[message.status]) return false
    if (status === 'failed' && message.status !== 'sent') return false
    const time = at.toISOString()
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

  function emitChange (message: TrackedMessage, at: Date): void {
    events.emit('change', { message: { ...message }, at: at.toISOString() })
  }

  return {
    events,

    recordSent ({ sessionId, messageId, to, type, at }) {
      const key = keyOf(sessionId, messageId)
      // Each message is reported once (the sender reports OTP messages with type 'otp'); a repeat changes nothing.
      if (messages.get(key) !== undefined) return
      const message: TrackedMessage = {
        messageId, sessionId, to, type, status: 'sent', sentAt: at.toISOString(), deliveredAt: null, readAt: null, failedAt: null
      }
      messages.set(key, message)
      emitChange(message, at)
      for (const early of earlyStatuses.get(key) ?? []) {
        if (advance(message, early.status, early.at)) emitChange(message, early.at)
      }
      earlyStatuses.delete(key)
    },

    recordStatus ({ sessionId, messageId, status }) {
      const deliveryStatus = deliveryStatusOf(status)
      if (deliveryStatus === undefined) return
      const key = keyOf(sessionId, messageId)
      const at = new Date(clock())
      const message = messages.get(key)
      if (message === undefined) {
        earlyStatuses.set(key, [...(earlyStatuses.get(key) ?? []), { status: deliveryStatus, at }])
        return
      }
      if (!advance(message, deliveryStatus, at)) return
      // A write refreshes the entry's age: a message still moving is still of interest.
      messages.set(key, message)
      emitChange(message, at)
    },

    get (sessionId, messageId) {
      const message = messages.get(keyOf(sessionId, messageId))
      return message === undefined ? undefined : { ...message }
    }
  }
}

async function messageStatusPlugin (fastify: FastifyInstance): Promise<void> {
  const tracker = createMessageStatusTracker()
  fastify.decorate('messageStatus', tracker)
}

export default fp(messageStatusPlugin, { name: 'message-status', fastify: '5.x' })
