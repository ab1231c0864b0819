import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { errors, holderRetryAfterSeconds, holderUnavailable } from '../src/errors.js'
import { normalizePhoneNumber } from '../src/phone-number.js'
import { createSendQueue, type SendQueue } from '../src/send-queue.js'
import type { MessageSenderEventMap, SentMessageType } from '../src/events.js'
import type { SessionRegistry } from './session-registry.js'
import { SendRefusedError, type OutgoingMedia, type WhatsAppConnection } from '../src/whatsapp-connection.js'

export interface SentMessage {
  messageId: string
  // The number as sent to: digits with the country code.
  to: string
  jid: string
}

export interface MessageSenderOptions {
  sessions: Pick<SessionRegistry, 'connection'>
  logger: Logger
  minGapMs: number
  maxQueued: number
  // Longest a send may wait in its session's queue before it is refused (see SendQueueOptions).
  maxWaitMs: number
  // With REDIS_URL: Retry-After of a waiting send refused because its session moved to another
  // instance (about when the new holder runs it).
  holderRetryAfterSeconds: number
  // How long a lookup answer is trusted. A number that is not on WhatsApp may join any minute,
  // so "no" is trusted for less time than "yes".
  registeredCacheMs?: number
  unregisteredCacheMs?: number
  // Numbers remembered per session; past it, the answer closest to expiring is forgotten first.
  maxCachedNumbers?: number
  clock?: () => number
}

export interface MessageSender {
  events: EventEmitter<MessageSenderEventMap>
  // Throws the registry's error when the session does not exist or cannot send now; lets a
  // caller check the session before it spends anything else (an OTP cooldown) on the send.
  assertCanSend: (sessionId: string) => void
  sendText: (sessionId: string, to: string, text: string, type?: 'text' | 'otp') => Promise<SentMessage>
  sendMedia: (sessionId: string, to: string, media: OutgoingMedia) => Promise<SentMessage>
  // Refuses the session's waiting sends and forgets its lookups (when the session is removed).
  forgetSession: (sessionId: string) => Promise<void>
  // The same when the session runs on another instance now: its waiting sends are refused with
  // SESSION_HOLDER_UNAVAILABLE, so the client sends again and reaches the new holder.
  sessionLeft: (sessionId: string) => Promise<void>
  // Refuses every waiting send and any later one; resolves when the sends in progress end.
  close: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    messageSender: MessageSender
  }
}

interface CachedLookup {
  expiresAt: number
  jid: string | null
}

// A session's lookup answers, one map per kind of answer. Each kind has one lifetime, so in each
// map the order of insertion is the order of expiry: the expired answers are at its oldest end.
interface SessionLookups {
  registered: Map<string, CachedLookup>
  unregistered: Map<string, CachedLookup>
}

function dropExpired (answers: Map<string, CachedLookup>, now: number): void {
  for (const [phone, cached] of answers) {
    if (cached.expiresAt > now) return
    answers.delete(phone)
  }
}

// The answer closest to expiring is the first of one of the two maps.
function dropSoonestExpiring ({ registered, unregistered }: SessionLookups): void {
  const registeredExpiry = registered.values().next().value?.expiresAt ?? Infinity
  const unregisteredExpiry = unregistered.values().next().value?.expiresAt ?? Infinity
  const answers = unregisteredExpiry <= registeredExpiry ? unregistered : registered
  answers.delete(answers.keys().next().value as string)
}

// Retry-After only when WhatsApp said when the restriction ends.
export function senderRestricted (sessionId: string, until: Date | null, now: number): Error {
  const error = new errors.SENDER_RESTRICTED(sessionId)
  if (until === null) return error
  return Object.assign(error, { retryAfterSeconds: Math.max(1, Math.ceil((until.getTime() - now) / 1000)) })
}

export function createMessageSender (options: MessageSenderOptions): MessageSender {
  const { sessions, logger, minGapMs, maxQueued, maxWaitMs, holderRetryAfterSeconds } = options
  const registeredCacheMs = options.registeredCacheMs ?? 60 * 60 * 1000
  const unregisteredCacheMs = options.unregisteredCacheMs ?? 5 * 60 * 1000
  const maxCachedNumbers = options.maxCachedNumbers ?? 10_000
  const clock = options.clock ?? Date.now
  const events = new EventEmitter<MessageSenderEventMap>()
  const queues = new Map<string, SendQueue>()
  const lookups = new Map<string, SessionLookups>()
  let closed = false

  function queueOf (sessionId: string): SendQueue {
    let queue = queues.get(sessionId)
    if (queue === undefined) {
      queue = createSendQueue({ sessionId, maxPending: maxQueued, minGapMs, maxWaitMs })
      queues.set(sessionId, queue)
    }
    return queue
  }

  // The answer WhatsApp gave for the number, while it is trusted: a jid, null for "not on
  // WhatsApp", undefined when it has to be asked.
  function cachedJid (sessionId: string, phone: string): string | null | undefined {
    const answers = lookups.get(sessionId)
    const cached = answers?.registered.get(phone) ?? answers?.unregistered.get(phone)
    return cached === undefined || cached.expiresAt <= clock() ? undefined : cached.jid
  }

  // Expired answers are dropped as new ones come in, so a session keeps about one lifetime's worth of
  // lookups (an hour), not maxCachedNumbers of them collected over weeks.
  function rememberLookup (sessionId: string, phone: string, jid: string | null): void {
    let answers = lookups.get(sessionId)
    if (answers === undefined) {
      answers = { registered: new Map(), unregistered: new Map() }
      lookups.set(sessionId, answers)
    }
    const now = clock()
    answers.registered.delete(phone)
    answers.unregistered.delete(phone)
    dropExpired(answers.registered, now)
    dropExpired(answers.unregistered, now)
    if (jid === null) answers.unregistered.set(phone, { jid, expiresAt: now + unregisteredCacheMs })
    else answers.registered.set(phone, { jid, expiresAt: now + registeredCacheMs })
    if (answers.registered.size + answers.unregistered.size > maxCachedNumbers) dropSoonestExpiring(answers)
  }

  // Runs inside the session's queue turn: every question to WhatsApp is paced like a send, so
  // the API cannot be used to check many numbers quickly (what gets accounts banned).
  async function lookUpJid (sessionId: string, connection: WhatsAppConnection, phone: string): Promise<string> {
    let jid = cachedJid(sessionId, phone)
    if (jid === undefined) {
      // A failed lookup throws here and says nothing about the number: nothing is cached.
      jid = (await connection.lookup([phone])).get(phone) ?? null
      rememberLookup(sessionId, phone, jid)
    }
    if (jid === null) throw new errors.PHONE_NOT_ON_WHATSAPP()
    return jid
  }

  function assertCanSend (sessionId: string): void {
    if (closed) throw new errors.SEND_QUEUE_CLOSED(sessionId)
    sessions.connection(sessionId)
  }

  async function sendThroughQueue (
    sessionId: string,
    to: string,
    type: SentMessageType,
    deliver: (connection: WhatsAppConnection, jid: string) => Promise<{ messageId: string }>
  ): Promise<SentMessage> {
    const phone = normalizePhoneNumber(to).formatted
    try {
      assertCanSend(sessionId)
      // A number known not to be on WhatsApp is answered without taking a turn: WhatsApp is not asked.
      if (cachedJid(sessionId, phone) === null) throw new errors.PHONE_NOT_ON_WHATSAPP()
      const sent = await queueOf(sessionId).run(async () => {
        // Looked up again when the turn comes: the session may have reconnected or dropped meanwhile.
        const connection = sessions.connection(sessionId)
        const jid = await lookUpJid(sessionId, connection, phone)
        try {
          return { jid, ...await deliver(connection, jid) }
        } catch (error) {
          logger.warn({ sessionId, type, err: error }, 'WhatsApp refused the message')
          if (error instanceof SendRefusedError && error.restricted) throw senderRestricted(sessionId, error.restrictedUntil, clock())
          throw new errors.MESSAGE_SEND_FAILED((error as Error).message)
        }
      })
      events.emit('sent', { sessionId, messageId: sent.messageId, to: phone, jid: sent.jid, type, at: new Date(clock()) })
      return { messageId: sent.messageId, to: phone, jid: sent.jid }
    } catch (error) {
      const known = (error as FastifyError).code in errors
      const failure = known ? error as FastifyError : new errors.MESSAGE_SEND_FAILED((error as Error).message)
      events.emit('failed', { sessionId, to: phone, type, errorCode: failure.code, message: failure.message, at: new Date(clock()) })
      throw failure
    }
  }

  // The waiting sends are refused with `refusal`, SEND_QUEUE_CLOSED when none is given.
  async function dropSession (sessionId: string, refusal?: () => Error): Promise<void> {
    lookups.delete(sessionId)
    const queue = queues.get(sessionId)
    queues.delete(sessionId)
    await queue?.close(refusal)
  }

  return {
    events,
    assertCanSend,
    sendText: async (sessionId, to, text, type = 'text') =>
      await sendThroughQueue(sessionId, to, type, async (connection, jid) => await connection.sendText(jid, text)),
    sendMedia: async (sessionId, to, media) =>
      await sendThroughQueue(sessionId, to, media.kind, async (connection, jid) => await connection.sendMedia(jid, media)),
    forgetSession: async (sessionId) => { await dropSession(sessionId) },
    sessionLeft: async (sessionId) => {
      await dropSession(sessionId, () => holderUnavailable(sessionId, holderRetryAfterSeconds))
    },
    async close () {
      closed = true
      await Promise.all([...queues.keys()].map(async (sessionId) => { await dropSession(sessionId) }))
    }
  }
}

async function messageSenderPlugin (fastify: FastifyInstance): Promise<void> {
  const messageSender = createMessageSender({
    sessions: fastify.sessions,
    logger: fastify.log.child({ component: 'message-sender' }) as Logger,
    minGapMs: fastify.config.sendMinGapMs,
    maxQueued: fastify.config.sendQueueMax,
    maxWaitMs: fastify.config.sendMaxWaitMs,
    holderRetryAfterSeconds: holderRetryAfterSeconds(fastify.config.sessionLeaseMs)
  })
  fastify.decorate('messageSender', messageSender)
  // preClose, not onClose: Fastify's close waits for requests in flight before any onClose
  // runs, and a request waiting in a send queue would hold the shutdown past its grace period.
  // Refused here, the waiting requests answer 503 at once; the send in progress finishes on an
  // open socket, since the registry closes the sockets only in its onClose.
  fastify.addHook('preClose', async () => {
    await messageSender.close()
  })
}

export default fp(messageSenderPlugin, { name: 'message-sender', fastify: '5.x', dependencies: ['session-registry'] })
