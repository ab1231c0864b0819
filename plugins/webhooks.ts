import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { WebhookEventMap } from '../src/events.js'
import {
  createWebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookEvent,
  type WebhookStats
} from '../src/webhook-dispatcher.js'
import { packageInfo } from '../src/package-info.js'
import { importSpooledDeliveries } from '../src/webhook-spool-import.js'
import type { WebhooksCheck } from '../schemas/system.js'

export interface Webhooks {
  configured: boolean
  urlCount: number
  events: EventEmitter<WebhookEventMap>
  publish: (event: WebhookEvent, sessionId: string | null, data: unknown) => void
  stats: () => Promise<WebhookStats>
  health: () => Promise<WebhooksCheck>
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
    // A delivery in flight on an instance that dies goes out from another in the time the
    // cluster takes to notice a dead instance, as its sessions do.
    claimLeaseMs: config.sessionLeaseMs,
    logger: log
  })
  fastify.decorate('webhooks', webhooks)
  fastify.healthChecks.add('webhooks', webhooks.health)

  // What the service's events publish is in plugins/event-wiring.ts; the dispatcher keeps what
  // is published before start() until it runs.
  fastify.addHook('onReady', async () => {
    await importSpooledDeliveries(config.dataDirectory, fastify.stateStore.webhookDeliveries, log)
    await webhooks.start()
  })
  // Deliveries still pending stay in the state store's queue for the next start (or another instance).
  fastify.addHook('onClose', async () => {
    await webhooks.close()
  })
}

export default fp(webhooksPlugin, { name: 'webhooks', fastify: '5.x', dependencies: ['health', 'state-store'] })
