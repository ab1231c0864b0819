import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { guarded } from '../src/guarded-listener.js'
import type { MessageSenderEventMap, OtpEventMap } from '../src/service-events.js'
import {
  createWebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookEvent,
  type WebhookResult,
  type WebhookStats
} from '../src/webhook-dispatcher.js'
import { packageInfo } from '../src/package-info.js'
import { importSpooledDeliveries } from '../src/webhook-spool-import.js'
import type { SessionEventMap } from './session-registry.js'
import type { MessageStatusEventMap } from './message-status.js'
import type { HealthCheckResult } from './health.js'

export interface WebhookEventMap {
  result: [WebhookResult]
}

export interface Webhooks {
  configured: boolean
  urlCount: number
  events: EventEmitter<WebhookEventMap>
  publish: (event: WebhookEvent, sessionId: string | null, data: unknown) => void
  stats: () => Promise<WebhookStats>
  health: () => Promise<HealthCheckResult>
  start: () => Promise<void>
  close: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: Webhooks
  }
}

// Failed attempts in a row, over every URL, before the health check reports degraded: enough to
// ride out one receiver's hiccup, few enough to notice a receiver that is down within a minute.
export const degradedAfterFailedAttempts = 5

export function createWebhooks (options: Omit<WebhookDispatcherOptions, 'onResult'>): Webhooks {
  const events = new EventEmitter<WebhookEventMap>()
  let failedAttemptsInARow = 0
  const dispatcher = createWebhookDispatcher({
    ...options,
    onResult (result) {
      failedAttemptsInARow = result.outcome === 'delivered' ? 0 : failedAttemptsInARow + 1
      events.emit('result', result)
    }
  })
  const configured = options.urls.length > 0
  return {
    configured,
    urlCount: options.urls.length,
    events,
    publish: dispatcher.publish,
    stats: dispatcher.stats,
    async health () {
      const { pending, retrying, lastError, lastDeliveredAt } = await dispatcher.stats()
      const degraded = failedAttemptsInARow >= degradedAfterFailedAttempts
      return { status: degraded ? 'degraded' : 'ok', configured, pending, retrying, failedAttemptsInARow, lastError, lastDeliveredAt }
    },
    start: dispatcher.start,
    close: dispatcher.close
  }
}

// Every payload is built field by field from the event, so nothing a producer adds later (an OTP
// code, a credential) can reach a receiver by accident.
export function forwardSessionEvents (publish: Webhooks['publish'], sessions: EventEmitter<SessionEventMap>, messageStatus: EventEmitter<MessageStatusEventMap>, logger: FastifyBaseLogger): void {
  const on = <Arguments extends unknown[]>(listener: (...args: Arguments) => void): ((...args: Arguments) => void) => guarded(logger, 'webhooks', listener)
  sessions.on('qr', on(({ sessionId, qr }) => publish('session.qr', sessionId, { qr })))
  sessions.on('connected', on(({ sessionId, user }) => publish('session.connected', sessionId, { user })))
  sessions.on('disconnected', on(({ sessionId, kind, statusCode, message, willReconnect }) => {
    publish('session.disconnected', sessionId, { reason: kind, statusCode, message, willReconnect })
  }))
  sessions.on('logged_out', on(({ sessionId }) => publish('session.logged_out', sessionId, {})))
  sessions.on('replaced', on(({ sessionId }) => publish('session.replaced', sessionId, {})))
  sessions.on('message-received', on(({ sessionId, messageId, from, pushName, text, timestamp }) => {
    publish('message.received', sessionId, { messageId, from, pushName, text, timestamp: new Date(timestamp * 1000).toISOString() })
  }))
  messageStatus.on('change', on(({ message, at }) => {
    const { sessionId, messageId, to, type, status } = message
    publish('message.status', sessionId, { messageId, to, type, status, at })
  }))
}

export function forwardSenderEvents (publish: Webhooks['publish'], messageSender: EventEmitter<MessageSenderEventMap>, otp: EventEmitter<OtpEventMap>, logger: FastifyBaseLogger): void {
  const on = <Arguments extends unknown[]>(listener: (...args: Arguments) => void): ((...args: Arguments) => void) => guarded(logger, 'webhooks', listener)
  // A send that failed before WhatsApp accepted it has no message id, so the tracker never sees it.
  messageSender.on('failed', on(({ sessionId, to, type, errorCode, message, at }) => {
    publish('message.status', sessionId, { messageId: null, to, type, status: 'failed', error: errorCode, errorMessage: message, at: at.toISOString() })
  }))
  otp.on('sent', on(({ sessionId, to, messageId, expiresAt, at }) => {
    publish('otp.sent', sessionId, { to, messageId, expiresAt: expiresAt.toISOString(), at: at.toISOString() })
  }))
  otp.on('verified', on(({ to, at }) => publish('otp.verified', null, { to, at: at.toISOString() })))
  otp.on('failed', on(({ to, reason, attemptsLeft, at }) => {
    publish('otp.failed', null, { to, reason, attemptsLeft, at: at.toISOString() })
  }))
}

async function webhooksPlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const log = fastify.log.child({ component: 'webhooks' })
  const webhooks = createWebhooks({
    urls: config.webhookUrls,
    secret: config.webhookSecret,
    events: config.webhookEvents,
    queue: fastify.stateStore.webhookDeliveries,
    dataDirectory: config.dataDirectory,
    version: packageInfo.version,
    logger: log
  })
  fastify.decorate('webhooks', webhooks)
  fastify.healthChecks.add('webhooks', webhooks.health)

  // Forwarded from now on, before start(): restored sessions connect while the app starts, and
  // the dispatcher keeps what is published early until it runs.
  forwardSessionEvents(webhooks.publish, fastify.sessions.events, fastify.messageStatus.events, log)
  forwardSenderEvents(webhooks.publish, fastify.messageSender.events, fastify.otp.events, log)
  fastify.addHook('onReady', async () => {
    await importSpooledDeliveries(config.dataDirectory, fastify.stateStore.webhookDeliveries, log)
    await webhooks.start()
  })
  // Deliveries still pending stay in the state store's queue for the next start (or another instance).
  fastify.addHook('onClose', async () => {
    await webhooks.close()
  })
}

export default fp(webhooksPlugin, { name: 'webhooks', fastify: '5.x', dependencies: ['health', 'state-store', 'session-registry', 'message-sender', 'otp', 'message-status'] })
