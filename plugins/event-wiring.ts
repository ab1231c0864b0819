import type { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { MessageSenderEventMap, MessageStatusEventMap, OtpEventMap, RestrictionEventMap, SessionEventMap, VerificationEventMap, WebhookEventMap } from '../src/events.js'
import { guarded } from '../src/guarded-listener.js'
import type { MessageSender } from './message-sender.js'
import type { MessageStatusTracker } from './message-status.js'
import type { Metrics } from './metrics.js'
import type { Restrictions } from './restrictions.js'
import type { SenderPool } from './sender-pool.js'
import type { SessionRegistry } from './session-registry.js'
import type { Verifications } from './verifications.js'
import type { Webhooks } from './webhooks.js'

// Every subscription between plugins, in one list: which producer's event makes which consumer
// do what. No plugin subscribes to another plugin's events by itself; a new reaction to an
// event is one more line below (and one more row in docs/architecture.md, which a test checks).

// The producers' emitters, named after their decorators (fastify.sessions.events, ...).
export interface EventProducers {
  sessions: EventEmitter<SessionEventMap>
  messageSender: EventEmitter<MessageSenderEventMap>
  otp: EventEmitter<OtpEventMap>
  messageStatus: EventEmitter<MessageStatusEventMap>
  webhooks: EventEmitter<WebhookEventMap>
  restrictions: EventEmitter<RestrictionEventMap>
  verifications: EventEmitter<VerificationEventMap>
}

// Only what the reactions call, so the wiring can be tested with fakes.
export interface EventConsumers {
  messageSender: Pick<MessageSender, 'forgetSession' | 'sessionLeft'>
  messageStatus: Pick<MessageStatusTracker, 'recordSent' | 'recordStatus'>
  restrictions: Pick<Restrictions, 'recordRestriction' | 'recordReceived' | 'recordSent' | 'recordFailed' | 'forgetSession' | 'sessionLeft'>
  senderPool: Pick<SenderPool, 'forgetSession'>
  sessions: Pick<SessionRegistry, 'restrictionChanged'>
  verifications: Pick<Verifications, 'handleInbound' | 'handleStatusChange'>
  webhooks: Pick<Webhooks, 'publish'>
  metrics: Pick<Metrics, 'countMessage' | 'countOtpSent' | 'otpVerified' | 'sessionReconnects' | 'webhookDeliveries' | 'sessionRestrictionChanges'>
}

export interface Subscription {
  producer: keyof EventProducers
  event: string
  consumer: keyof EventConsumers
}

export interface EventWiring {
  subscriptions: Subscription[]
  unwire: () => void
}

type EventMapOf<Producer extends keyof EventProducers> = EventProducers[Producer] extends EventEmitter<infer Events> ? Events : never

export function wireEvents (producers: EventProducers, consumers: EventConsumers, logger: FastifyBaseLogger): EventWiring {
  const subscriptions: Subscription[] = []
  const removals: Array<() => void> = []

  function on<Producer extends keyof EventProducers, Event extends keyof EventMapOf<Producer> & string> (
    producer: Producer,
    event: Event,
    consumer: keyof EventConsumers,
    react: (payload: EventMapOf<Producer>[Event] extends [infer Payload] ? Payload : never) => void
  ): void {
    // Listeners run inside the producer's emit(): a consumer's mistake is logged, never thrown into a send.
    const listener = guarded(logger, consumer, react)
    const emitter = producers[producer] as unknown as EventEmitter
    emitter.on(event, listener)
    removals.push(() => { emitter.off(event, listener) })
    subscriptions.push({ producer, event, consumer })
  }

  const { messageSender, messageStatus, restrictions, senderPool, sessions, verifications, webhooks, metrics } = consumers
  const publish = webhooks.publish

  // Which sessions WhatsApp keeps from new chats, and which chats each already has. These come
  // first: a send that lifts a restriction announces it before the send's own reactions.
  on('sessions', 'restriction', 'restrictions', (update) => { restrictions.recordRestriction(update) })
  on('sessions', 'message-received', 'restrictions', (message) => { restrictions.recordReceived(message) })
  on('sessions', 'removed', 'restrictions', ({ sessionId }) => { restrictions.forgetSession(sessionId) })
  // A session that moved to another instance keeps its chats: the new holder reads them.
  on('sessions', 'left', 'restrictions', ({ sessionId }) => { restrictions.sessionLeft(sessionId) })
  on('messageSender', 'sent', 'restrictions', (sent) => { restrictions.recordSent(sent) })
  on('messageSender', 'failed', 'restrictions', (failed) => { restrictions.recordFailed(failed) })
  // Where the other instances' pools see it (REDIS_URL).
  on('restrictions', 'restricted', 'sessions', ({ sessionId }) => { sessions.restrictionChanged(sessionId) })
  on('restrictions', 'lifted', 'sessions', ({ sessionId }) => { sessions.restrictionChanged(sessionId) })

  // An inbound code arrives as a chat message; an OTP message WhatsApp failed ends its verification.
  on('sessions', 'message-received', 'verifications', (message) => { verifications.handleInbound(message) })
  on('messageStatus', 'change', 'verifications', (change) => { verifications.handleStatusChange(change) })

  // A removed session's send queue, number lookups and place in the pool's order go with it; so
  // do those of a session that moved to another instance, whose waiting sends are refused so that
  // their clients send them again to the new holder.
  on('sessions', 'removed', 'messageSender', ({ sessionId }) => { void messageSender.forgetSession(sessionId) })
  on('sessions', 'removed', 'senderPool', ({ sessionId }) => { senderPool.forgetSession(sessionId) })
  on('sessions', 'left', 'messageSender', ({ sessionId }) => { void messageSender.sessionLeft(sessionId) })
  on('sessions', 'left', 'senderPool', ({ sessionId }) => { senderPool.forgetSession(sessionId) })

  // The tracker follows each accepted message through WhatsApp's receipts. An OTP message arrives
  // here as a 'sent' of type 'otp': the tracker needs no OTP subscription of its own.
  on('messageSender', 'sent', 'messageStatus', (sent) => { void messageStatus.recordSent(sent) })
  on('sessions', 'message-status', 'messageStatus', (update) => { void messageStatus.recordStatus(update) })

  // Every webhook payload is built field by field from the event, so nothing a producer adds later
  // (an OTP code, a credential) can reach a receiver by accident.
  on('sessions', 'qr', 'webhooks', ({ sessionId, qr }) => { publish('session.qr', sessionId, { qr }) })
  on('sessions', 'connected', 'webhooks', ({ sessionId, user }) => { publish('session.connected', sessionId, { user }) })
  on('sessions', 'disconnected', 'webhooks', ({ sessionId, kind, statusCode, message, willReconnect }) => {
    publish('session.disconnected', sessionId, { reason: kind, statusCode, message, willReconnect })
  })
  on('sessions', 'logged_out', 'webhooks', ({ sessionId }) => { publish('session.logged_out', sessionId, {}) })
  on('sessions', 'replaced', 'webhooks', ({ sessionId }) => { publish('session.replaced', sessionId, {}) })
  on('sessions', 'message-received', 'webhooks', ({ sessionId, messageId, from, phone, pushName, text, timestamp }) => {
    publish('message.received', sessionId, { messageId, from, phone, pushName, text, timestamp: new Date(timestamp * 1000).toISOString() })
  })
  on('messageStatus', 'change', 'webhooks', ({ message, at }) => {
    const { sessionId, messageId, to, type, status } = message
    publish('message.status', sessionId, { messageId, to, type, status, at })
  })
  // A send that failed before WhatsApp accepted it has no message id, so the tracker never sees it.
  on('messageSender', 'failed', 'webhooks', ({ sessionId, to, type, errorCode, message, at }) => {
    publish('message.status', sessionId, { messageId: null, to, type, status: 'failed', error: errorCode, errorMessage: message, at: at.toISOString() })
  })
  on('otp', 'sent', 'webhooks', ({ sessionId, to, messageId, expiresAt, at }) => {
    publish('otp.sent', sessionId, { to, messageId, expiresAt: expiresAt.toISOString(), at: at.toISOString() })
  })
  on('otp', 'failed', 'webhooks', ({ to, reason, attemptsLeft, at }) => {
    publish('otp.failed', null, { to, reason, attemptsLeft, at: at.toISOString() })
  })
  on('restrictions', 'restricted', 'webhooks', ({ sessionId, newChats, until, reason }) => {
    publish('session.restricted', sessionId, { newChats, until, reason })
  })
  on('restrictions', 'lifted', 'webhooks', ({ sessionId }) => { publish('session.restriction_lifted', sessionId, {}) })
  // The one publisher of otp.verified, for both methods: a verified code fires it once.
  on('verifications', 'approved', 'webhooks', ({ to, verification, method, at }) => {
    publish('otp.verified', verification?.sessionId ?? null, { to, method, verificationId: verification?.verificationId ?? null, at: at.toISOString() })
  })

  on('messageSender', 'sent', 'metrics', ({ type }) => { metrics.countMessage(type, 'sent') })
  on('messageSender', 'failed', 'metrics', ({ type }) => { metrics.countMessage(type, 'failed') })
  on('otp', 'sent', 'metrics', () => { metrics.countOtpSent() })
  on('otp', 'failed', 'metrics', ({ reason }) => { metrics.otpVerified.inc({ result: reason }) })
  on('sessions', 'disconnected', 'metrics', ({ kind, willReconnect }) => {
    if (willReconnect) metrics.sessionReconnects.inc({ reason: kind })
  })
  on('restrictions', 'restricted', 'metrics', () => { metrics.sessionRestrictionChanges.inc({ change: 'restricted' }) })
  on('restrictions', 'lifted', 'metrics', () => { metrics.sessionRestrictionChanges.inc({ change: 'lifted' }) })
  on('verifications', 'approved', 'metrics', () => { metrics.otpVerified.inc({ result: 'valid' }) })
  on('webhooks', 'result', 'metrics', ({ outcome }) => { metrics.webhookDeliveries.inc({ result: outcome }) })

  return {
    subscriptions,
    unwire () {
      for (const remove of removals) remove()
    }
  }
}

async function eventWiringPlugin (fastify: FastifyInstance): Promise<void> {
  // Wired at registration, before ready: restored sessions connect while the app starts, and
  // their events must already reach webhooks (which keep what is published until they start).
  const wiring = wireEvents({
    sessions: fastify.sessions.events,
    messageSender: fastify.messageSender.events,
    otp: fastify.otp.events,
    messageStatus: fastify.messageStatus.events,
    webhooks: fastify.webhooks.events,
    restrictions: fastify.restrictions.events,
    verifications: fastify.verifications.events
  }, {
    messageSender: fastify.messageSender,
    messageStatus: fastify.messageStatus,
    restrictions: fastify.restrictions,
    senderPool: fastify.senderPool,
    sessions: fastify.sessions,
    verifications: fastify.verifications,
    webhooks: fastify.webhooks,
    metrics: fastify.metrics
  }, fastify.log.child({ component: 'event-wiring' }))
  // Registered last, so this onClose runs before the others: no event reaches a consumer that
  // is already closed. Sends in flight at shutdown finish before any onClose, still wired.
  fastify.addHook('onClose', async () => {
    wiring.unwire()
  })
}

export default fp(eventWiringPlugin, {
  name: 'event-wiring',
  fastify: '5.x',
  dependencies: ['session-registry', 'message-sender', 'otp', 'message-status', 'webhooks', 'metrics', 'restrictions', 'verifications', 'sender-pool']
})
