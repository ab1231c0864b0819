// The embedded store with much in it: the webhook queue with a backlog, as a receiver that is
// down for hours leaves it (the time of each call the dispatcher and the health check make, which
// must not grow with the backlog), and the sweep of expired records over a day's message statuses
// (the longest the event loop waits while it runs).
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { openEmbeddedStateStore } from '../src/state/embedded-state-store.js'
import { inParallel } from './http.js'

export interface WebhookBacklogFigures {
  pending: number
  enqueueMicrosecondsEach: number
  claimMs: number
  nextDueAtMs: number
  statsMs: number
}

const round = (value: number): number => Number(value.toFixed(3))
// Many writes at a time, as a busy service makes them: the store commits concurrent ones together.
const concurrentWrites = 1000
const numbered = (count: number): number[] => Array.from({ length: count }, (_, index) => index)

export async function measureWebhookBacklog (directory: string, pending: number): Promise<WebhookBacklogFigures> {
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), sweepIntervalMs: 0 })
  try {
    const queue = store.webhookDeliveries
    const now = Date.now()
    // A typical event body; none due within the run, a third of them already retried once.
    const body = JSON.stringify({ event: 'message.sent', sessionId: 'main', timestamp: new Date(now).toISOString(), data: { messageId: '3EB0B53FA4002B0B84C028', to: '6281234567890', text: 'x'.repeat(400) } })
    const enqueueStarted = performance.now()
    await inParallel(numbered(pending), concurrentWrites, async (index) => {
      await queue.enqueue({ id: `delivery-${index}`, event: 'message.sent', url: 'http://127.0.0.1:9/hook', body, attempts: index % 3 === 0 ? 1 : 0, createdAt: now, nextAttemptAt: now + 3_600_000 + index })
    })
    const enqueueMicrosecondsEach = (performance.now() - enqueueStarted) * 1000 / pending
    const timed = async (call: () => Promise<unknown>): Promise<number> => {
      const started = performance.now()
      for (let run = 0; run < 20; run++) await call()
      return (performance.now() - started) / 20
    }
    return {
      pending,
      enqueueMicrosecondsEach: round(enqueueMicrosecondsEach),
      claimMs: round(await timed(async () => await queue.claim(10, 15_000))),
      nextDueAtMs: round(await timed(async () => await queue.nextDueAt())),
      statsMs: round(await timed(async () => await queue.stats()))
    }
  } finally {
    await store.close()
  }
}

export interface SweepFigures {
  records: number
  durationMs: number
  longestPauseMs: number
}

export async function measureSweep (directory: string, records: number): Promise<SweepFigures> {
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), sweepIntervalMs: 0 })
  try {
    const statuses = store.records('message-status')
    const now = Date.now()
    // None expired yet: the sweep reads them all and removes nothing, its most common pass.
    await inParallel(numbered(records), concurrentWrites, async (index) => {
      await statuses.update(`main/3EB0${index}`, () => ({ value: { status: 'delivered', to: '6281234567890', sentAt: now, deliveredAt: now }, result: null, expiresAt: now + 86_400_000 }))
    })
    const delay = monitorEventLoopDelay({ resolution: 1 })
    delay.enable()
    const started = performance.now()
    await store.deleteExpired()
    const durationMs = performance.now() - started
    delay.disable()
    return { records, durationMs: round(durationMs), longestPauseMs: round(delay.max / 1e6) }
  } finally {
    await store.close()
  }
}
