import type { WebhookDeliveryQueue } from './state/state-store.js'

export interface WebhookStats {
  // Delivered and failed count every delivery the queue settled, across restarts (and, on Redis,
  // across instances); pending and retrying are the queue's now.
  delivered: number
  failed: number
  // Deliveries that failed at least once and wait for another attempt.
  retrying: number
  // Every delivery not yet delivered or failed: waiting, in flight or retrying.
  pending: number
  // These three are this process's, since it started.
  lastError: { message: string, at: string, event: string, url: string } | null
  lastDeliveredAt: string | null
  byEvent: Record<string, { delivered: number, failed: number }>
}

export interface WebhookStatsRecorder {
  delivered: (event: string, at: number) => void
  failed: (event: string) => void
  error: (message: string, at: number, event: string, url: string) => void
  stats: () => Promise<WebhookStats>
}

export function createWebhookStats (queue: Pick<WebhookDeliveryQueue, 'stats'>): WebhookStatsRecorder {
  const byEvent: Record<string, { delivered: number, failed: number }> = {}
  let lastError: WebhookStats['lastError'] = null
  let lastDeliveredAt: string | null = null

  function eventCounters (event: string): { delivered: number, failed: number } {
    byEvent[event] ??= { delivered: 0, failed: 0 }
    return byEvent[event]
  }

  return {
    delivered (event, at) {
      eventCounters(event).delivered += 1
      lastDeliveredAt = new Date(at).toISOString()
    },
    failed (event) {
      eventCounters(event).failed += 1
    },
    error (message, at, event, url) {
      lastError = { message, at: new Date(at).toISOString(), event, url }
    },
    async stats () {
      const { delivered, failed, retrying, pending } = await queue.stats()
      const byEventCopy: WebhookStats['byEvent'] = {}
      for (const [event, counts] of Object.entries(byEvent)) byEventCopy[event] = { ...counts }
      return {
        delivered,
        failed,
        retrying,
        pending,
        lastError: lastError === null ? null : { ...lastError },
        lastDeliveredAt,
        byEvent: byEventCopy
      }
    }
  }
}
