import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { errors } from '../src/errors.js'
import { normalizePhoneNumber } from '../src/phone-number.js'
import { createSendQueue, type SendQueue } from '../src/send-queue.js'
import type { MessageSenderEventMap, SentMessageType } from '../src/service-events.js'
import type { SessionRegistry } from './session-registry.js'
import type { OutgoingMedia, WhatsAppConnection } from './transport.js'

export interface SentMessage {
  messageId: string
  // The number as sent to: digits with the country code.
  to: string
  jid: string
}

export interface MessageSenderOptions {
  sessions: Pick<SessionRegistry, 'connection' | 'events'>
  logger: Logger
  minGapMs: number
  maxQueued: number
  // How long a lookup answer is trusted. A number that is not on WhatsApp may join any minute,
  // so "no" is trusted for less time than "yes".
  registeredCacheMs?: number
  unregisteredCacheMs?: number
  // Numbers remembered per session; the oldest answers are forgotten first.
  maxCachedNumbers?: number
  clock?: () => number
}

export interface MessageSender {
  events: EventEmitter<MessageSenderEventMap>
  sendText: (sessionId: string, to: string, text: string, type?: 'text' | 'otp') => Promise<SentMessage>
  sendMedia: (sessionId: string, to: string, media: OutgoingMedia) => Promise<SentMessage>
  // Refuses the session's waiting sends and forgets its lookups.
  forgetSession: (sessionId: string) => Promise<void>
  close: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    messageSender: MessageSender
  }
}

interface CachedLookup {
  expiresAt: number
  // Shared while in flight, so a burst of sends to one new number asks WhatsApp once.
  jid: Promise<string | null>
}

export function createMessageSender (options: MessageSenderOptions): MessageSender {
  const { sessions, logger, minGapMs, maxQueued } = options
  const registeredCacheMs = options.registeredCacheMs ?? 60 * 60 * 1000
  const unregisteredCacheMs = options.unregisteredCacheMs ?? 5 * 60 * 1000
  const maxCachedNumbers = options.maxCachedNumbers ?? 10_000
  const clock = options.clock ?? Date.now
  const events = new EventEmitter<MessageSenderEventMap>()
  const queues = new Map<string, SendQueue>()
  const lookups = new Map<string, Map<string, CachedLookup>>()

  function queueOf (sessionId: string): SendQueue {
    let queue = queues.get(sessionId)
    if (queue === undefined) {
      queue = createSendQueue({ sessionId, maxPending: maxQueued, minGapMs })
      queues.set(sessionId, queue)
    }
    return queue
  }

  async function jidOf (sessionId: string, connection: WhatsAppConnection, phone: string): Promise<string> {
    let cache = lookups.get(sessionId)
    if (cache === undefined) {
      cache = new Map()
      lookups.set(sessionId, cache)
    }
    let cached = cache.get(phone)
    if (cached === undefined || cached.expiresAt <= clock()) {
      const entry: CachedLookup = {
        expiresAt: Number.POSITIVE_INFINITY,
        jid: connection.lookup([phone]).then((found) => {
          const jid = found.get(phone) ?? null
          entry.expiresAt = clock() + (jid === null ? unregisteredCacheMs : registeredCacheMs)
          return jid
        })
      }
      const sessionCache = cache
      // A failed lookup says nothing about the number: ask again next time.
      entry.jid.catch(() => {
        if (sessionCache.get(phone) === entry) sessionCache.delete(phone)
      })
      cache.delete(phone)
      cache.set(phone, entry)
      if (cache.size > maxCachedNumbers) cache.delete(cache.keys().next().value as string)
      cached = entry
    }
    const jid = await cached.jid
    if (jid === null) throw new errors.PHONE_NOT_ON_WHATSAPP()
    return jid
  }

  async function send (
    sessionId: string,
    to: string,
    type: SentMessageType,
    deliver: (connection: WhatsAppConnection, jid: string) => Promise<{ messageId: string }>
  ): Promise<SentMessage> {
    const phone = normalizePhoneNumber(to).formatted
    try {
      const jid = await jidOf(sessionId, sessions.connection(sessionId), phone)
      const { messageId } = await queueOf(sessionId).run(async () => {
        // Looked up again when the turn comes: the session may have reconnected or dropped meanwhile.
        const connection = sessions.connection(sessionId)
        try {
          return await deliver(connection, jid)
        } catch (error) {
          logger.warn({ sessionId, type, err: error }, 'WhatsApp refused the message')
          throw new errors.MESSAGE_SEND_FAILED((error as Error).message)
        }
      })
      events.emit('sent', { sessionId, messageId, to: phone, jid, type, at: new Date(clock()) })
      return { messageId, to: phone, jid }
    } catch (error) {
      const known = (error as FastifyError).code in errors
      const failure = known ? error as FastifyError : new errors.MESSAGE_SEND_FAILED((error as Error).message)
      events.emit('failed', { sessionId, to: phone, type, errorCode: failure.code, message: failure.message, at: new Date(clock()) })
      throw failure
    }
  }

  async function forgetSession (sessionId: string): Promise<void> {
    lookups.delete(sessionId)
    const queue = queues.get(sessionId)
    queues.delete(sessionId)
    await queue?.close()
  }

  const onRemoved = ({ sessionId }: { sessionId: string }): void => {
    void forgetSession(sessionId)
  }
  sessions.events.on('removed', onRemoved)

  return {
    events,
    sendText: async (sessionId, to, text, type = 'text') =>
      await send(sessionId, to, type, async (connection, jid) => await connection.sendText(jid, text)),
    sendMedia: async (sessionId, to, media) =>
      await send(sessionId, to, media.kind, async (connection, jid) => await connection.sendMedia(jid, media)),
    forgetSession,
    async close () {
      sessions.events.off('removed', onRemoved)
      await Promise.all([...queues.keys()].map(forgetSession))
    }
  }
}

async function messageSenderPlugin (fastify: FastifyInstance): Promise<void> {
  const messageSender = createMessageSender({
    sessions: fastify.sessions,
    logger: fastify.log.child({ component: 'message-sender' }) as Logger,
    minGapMs: fastify.config.sendMinGapMs,
    maxQueued: fastify.config.sendQueueMax
  })
  fastify.decorate('messageSender', messageSender)
  // Registered after the session registry, so this runs before its onClose: the send in
  // progress finishes on an open socket, the waiting ones are refused.
  fastify.addHook('onClose', async () => {
    await messageSender.close()
  })
}

export default fp(messageSenderPlugin, { name: 'message-sender', fastify: '5.x', dependencies: ['session-registry'] })
