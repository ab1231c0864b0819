import { randomUUID } from 'node:crypto'
import type { ClaimedWebhookDelivery, WebhookDelivery, WebhookDeliveryQueue } from './state/state-store.js'
import { createFailedDeliveryLog } from './webhook-failed-deliveries.js'
import { nextAttemptAt, type AttemptResult } from './webhook-retry-policy.js'
import { createWebhookSender } from './webhook-sender.js'
import { createWebhookStats, type WebhookStats } from './webhook-stats.js'

export type { WebhookStats } from './webhook-stats.js'

export const webhookEvents = [
  'session.qr',
  'session.connected',
  'session.disconnected',
  'session.logged_out',
  'session.replaced',
  'session.restricted',
  'session.restriction_lifted',
  'message.received',
  'message.status',
  'otp.sent',
  'otp.verified',
  'otp.failed'
] as const

export type WebhookEvent = typeof webhookEvents[number]

export function isWebhookEvent (name: string): name is WebhookEvent {
  return (webhookEvents as readonly string[]).includes(name)
}

// Configuration validation calls this too, so a typo in WEBHOOK_EVENTS stops the service
// at start instead of silently filtering everything out.
export function assertWebhookEvents (names: readonly string[]): asserts names is readonly WebhookEvent[] {
  const unknown = names.filter((name) => !isWebhookEvent(name))
  if (unknown.length > 0) {
    throw new Error(`Unknown webhook event ${unknown.join(', ')}; known events: ${webhookEvents.join(', ')}`)
  }
}

type LogFunction = (object: object, message?: string) => void

export interface WebhookLogger {
  info: LogFunction
  warn: LogFunction
  error: LogFunction
  debug: LogFunction
}

export type WebhookOutcome = 'delivered' | 'failed' | 'retry'

export interface WebhookResult {
  event: string
  url: string
  deliveryId: string
  outcome: WebhookOutcome
  statusCode?: number
  // Attempts made so far for this delivery, including the one this result is about.
  attempts: number
  error?: string
}

export interface WebhookDispatcherOptions {
  urls: readonly string[]
  secret?: string
  events?: readonly string[] | 'all'
  // The state store's queue: deliveries outlive a restart, and on Redis any instance sends a
  // delivery another one published, each once.
  queue: WebhookDeliveryQueue
  // Where failed deliveries are kept for inspection (<dataDirectory>/webhooks/failed/).
  dataDirectory: string
  version: string
  maxAttempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  requestTimeoutMs?: number
  concurrency?: number
  // How many failed deliveries to keep for inspection; the oldest are removed beyond this. 0 keeps none.
  keepFailedDeliveries?: number
  // How often the queue is looked at when nothing here says it changed: deliveries published by
  // another instance that died, or claims that ran out.
  pollIntervalMs?: number
  // How long a claimed delivery stays hidden from other claims without news from its instance,
  // which extends the claim every third of this while the attempt runs. A delivery in flight on
  // an instance that dies (kill -9) or stalls is sent by another after at most this long.
  claimLeaseMs?: number
  logger: WebhookLogger
  onResult?: (result: WebhookResult) => void
  // Milliseconds since the epoch; the queue must compare due times with the same clock.
  clock?: () => number
  // A number in [0, 1), for the backoff jitter.
  random?: () => number
}

export interface WebhookDispatcher {
  // sessionId is null for events about a phone number rather than a session (otp.verified, otp.failed).
  publish: (event: WebhookEvent, sessionId: string | null, data: unknown) => void
  start: () => Promise<void>
  close: () => Promise<void>
  stats: () => Promise<WebhookStats>
}

export function createWebhookDispatcher (options: WebhookDispatcherOptions): WebhookDispatcher {
  const {
    urls,
    events = 'all',
    queue,
    maxAttempts = 8,
    baseDelayMs = 1000,
    maxDelayMs = 5 * 60 * 1000,
    requestTimeoutMs = 10 * 1000,
    concurrency = 4,
    keepFailedDeliveries = 100,
    pollIntervalMs = 5000,
    claimLeaseMs = 15_000,
    logger,
    onResult,
    clock = Date.now,
    random = Math.random
  } = options

  for (const url of urls) {
    const protocol = URL.canParse(url) ? new URL(url).protocol : ''
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`Webhook URL ${url} is not an http or https URL`)
  }
  if (events !== 'all') assertWebhookEvents(events)
  for (const [name, value] of Object.entries({ maxAttempts, concurrency, claimLeaseMs })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`Webhook option ${name} must be a positive integer, got ${value}`)
  }

  const enabledEvents: ReadonlySet<string> | 'all' = events === 'all' ? 'all' : new Set(events)
  const policy = { maxAttempts, baseDelayMs, maxDelayMs }
  const postDelivery = createWebhookSender({ secret: options.secret, version: options.version, requestTimeoutMs, maxDelayMs, clock })
  const keepFailedDelivery = createFailedDeliveryLog(options.dataDirectory, keepFailedDeliveries)
  const counters = createWebhookStats(queue)

  let state: 'created' | 'running' | 'closed' = 'created'
  let activeAttempts = 0
  let pumping = false
  let pumpAgain = false
  let timer: NodeJS.Timeout | undefined
  // Every piece of background work (queue writes, attempts), so close() can wait for all of it.
  const backgroundWork = new Set<Promise<void>>()

  function runInBackground (work: () => Promise<void>): void {
    const promise = work().catch((error: unknown) => {
      logger.error({ err: error }, 'webhook dispatcher background work failed')
    }).finally(() => backgroundWork.delete(promise))
    backgroundWork.add(promise)
  }

  function publish (event: WebhookEvent, sessionId: string | null, data: unknown): void {
    try {
      if (urls.length === 0) return
      if (enabledEvents !== 'all' && !enabledEvents.has(event)) return
      const now = clock()
      const body = JSON.stringify({ event, sessionId, timestamp: new Date(now).toISOString(), data })
      for (const url of urls) {
        const delivery: WebhookDelivery = { id: randomUUID(), event, url, body, attempts: 0, createdAt: now, nextAttemptAt: now }
        if (state === 'closed') {
          logger.warn({ event, url, deliveryId: delivery.id }, 'webhook dispatcher is closed; delivery kept in the queue for the next start')
        }
        // In the queue before any attempt: a crash after this cannot lose it.
        runInBackground(async () => {
          await queue.enqueue(delivery)
          pump()
        })
      }
    } catch (error) {
      // Publishing is a side effect of API calls and session events: it must never break them.
      logger.error({ err: error, event, sessionId }, 'could not publish webhook event')
    }
  }

  // Claims what is due, up to the free attempt slots, then sleeps until the next due time.
  function pump (): void {
    if (state !== 'running') return
    if (pumping) {
      pumpAgain = true
      return
    }
    pumping = true
    runInBackground(async () => {
      try {
        do {
          pumpAgain = false
          const free = concurrency - activeAttempts
          // close() can change `state` during the claim's await: every pass checks it here.
          if (free <= 0 || state !== 'running') break
          const claimed = await queue.claim(free, claimLeaseMs)
          for (const delivery of claimed) startAttempt(delivery)
          if (claimed.length === free) pumpAgain = true
        } while (pumpAgain)
      } catch (error) {
        // The store is unreachable (Redis down): the timer below tries again.
        logger.error({ err: error }, 'could not claim webhook deliveries; trying again shortly')
      } finally {
        pumping = false
      }
      await sleepUntilNextDue()
    })
  }

  async function sleepUntilNextDue (): Promise<void> {
    if (state !== 'running') return
    const dueAt = await queue.nextDueAt().catch(() => undefined)
    if (state !== 'running') return
    const delay = dueAt === undefined ? pollIntervalMs : Math.min(Math.max(dueAt - clock(), 10), pollIntervalMs)
    clearTimeout(timer)
    // Kept referenced, like any pending work: close() clears it.
    timer = setTimeout(pump, delay)
  }

  function startAttempt (delivery: ClaimedWebhookDelivery): void {
    activeAttempts += 1
    runInBackground(async () => {
      try {
        await attemptDelivery(delivery)
      } finally {
        activeAttempts -= 1
        pump()
      }
    })
  }

  // A short claim kept alive while the request is in flight, rather than one long enough for any
  // request: the claim of an instance that died lapses within claimLeaseMs, and it needs nothing
  // but the queue (the instance heartbeat exists only with REDIS_URL). It stops when the answer is
  // in, before the result is written (the last extension left it at least two thirds of its
  // lease), so an extension still on its way when the result settles the claim is ignored rather
  // than taken for a lost claim. One extension at a time: the next is scheduled when the last one
  // answered, so a slow store never has two in flight (nor logs one lost claim twice). Returns the
  // function that stops it.
  function keepClaimed (delivery: ClaimedWebhookDelivery): () => void {
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    const extend = async (): Promise<void> => {
      try {
        const kept = await queue.extend(delivery, claimLeaseMs)
        if (stopped) return
        if (!kept) {
          logger.warn({ deliveryId: delivery.id }, 'webhook delivery claim ran out while its request was in flight; another instance may send it too')
          return
        }
      } catch (error) {
        // The store is unreachable: the next extension tries again while the claim lasts.
        if (!stopped) logger.warn({ err: error, deliveryId: delivery.id }, 'could not extend the webhook delivery claim')
      }
      schedule()
    }
    const schedule = (): void => {
      if (!stopped) timer = setTimeout(() => { runInBackground(extend) }, Math.max(1, Math.floor(claimLeaseMs / 3)))
    }
    schedule()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }

  async function attemptDelivery (delivery: ClaimedWebhookDelivery): Promise<void> {
    if (!urls.includes(delivery.url)) {
      await dropForRemovedUrl(delivery)
      return
    }
    const stopExtending = keepClaimed(delivery)
    const result = await postDelivery(delivery).finally(stopExtending)
    const attempts = delivery.attempts + 1
    const at = clock()
    const log = { event: delivery.event, url: delivery.url, deliveryId: delivery.id, attempts }

    if (result.kind === 'delivered') {
      await settled(delivery, queue.ack(delivery))
      counters.delivered(delivery.event, at)
      logger.debug(log, 'webhook delivered')
      report(delivery, attempts, 'delivered', result)
      return
    }

    counters.error(result.error, at, delivery.event, delivery.url)
    const retryAt = nextAttemptAt(result, attempts, at, policy, random)
    if (retryAt !== undefined) {
      await settled(delivery, queue.retry(delivery, retryAt))
      logger.info({ ...log, error: result.error, nextAttemptAt: new Date(retryAt).toISOString() }, 'webhook delivery will be retried')
      report(delivery, attempts, 'retry', result)
      return
    }

    await settled(delivery, queue.fail(delivery))
    counters.failed(delivery.event)
    logger.warn({ ...log, error: result.error }, 'webhook delivery failed')
    report(delivery, attempts, 'failed', result)
    await keepFailedDelivery({ ...delivery, attempts }, at, result.error).catch((error: unknown) => {
      logger.error({ err: error, deliveryId: delivery.id }, 'could not keep failed webhook delivery on disk')
    })
  }

  // A result that cannot be written leaves the claim to run out: the delivery is attempted again
  // then, which may send it twice but never loses it.
  async function settled (delivery: ClaimedWebhookDelivery, write: Promise<boolean>): Promise<void> {
    try {
      if (!await write) logger.warn({ deliveryId: delivery.id }, 'webhook delivery claim ran out before its result was written; another attempt may follow')
    } catch (error) {
      logger.error({ err: error, deliveryId: delivery.id }, 'could not write the webhook delivery result to the queue')
    }
  }

  function report (delivery: ClaimedWebhookDelivery, attempts: number, outcome: WebhookOutcome, attempt: AttemptResult): void {
    if (onResult === undefined) return
    const result: WebhookResult = { event: delivery.event, url: delivery.url, deliveryId: delivery.id, outcome, attempts }
    if (attempt.statusCode !== undefined) result.statusCode = attempt.statusCode
    if (attempt.kind !== 'delivered') result.error = attempt.error
    try {
      onResult(result)
    } catch (callbackError) {
      logger.error({ err: callbackError }, 'webhook onResult callback threw')
    }
  }

  // The operator took this URL out of WEBHOOK_URL: it must not receive anything more. The
  // delivery is kept with the failed ones, where it can still be inspected or replayed by hand.
  async function dropForRemovedUrl (delivery: ClaimedWebhookDelivery): Promise<void> {
    const error = 'webhook URL is no longer configured'
    logger.warn({ event: delivery.event, url: delivery.url, deliveryId: delivery.id }, 'pending webhook delivery dropped: its URL was removed from WEBHOOK_URL')
    await keepFailedDelivery(delivery, clock(), error).catch((keepError: unknown) => {
      logger.error({ err: keepError, deliveryId: delivery.id }, 'could not keep the dropped webhook delivery with the failed ones')
    })
    await settled(delivery, queue.fail(delivery))
  }

  async function start (): Promise<void> {
    if (state === 'closed') throw new Error('webhook dispatcher is closed')
    if (state === 'running') return
    state = 'running'
    pump()
  }

  // Safe to call again: each call resolves once all background work, including queue writes of
  // events published after the first close, has finished. In-flight requests end within
  // requestTimeoutMs through their own abort signal; their outcome is written before this resolves.
  async function close (): Promise<void> {
    state = 'closed'
    clearTimeout(timer)
    while (backgroundWork.size > 0) await Promise.allSettled([...backgroundWork])
    clearTimeout(timer)
  }

  return { publish, start, close, stats: counters.stats }
}
