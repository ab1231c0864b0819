import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from './atomic-file.js'
import {
  webhookDeliveryHeader,
  webhookEventHeader,
  webhookSignatureHeader,
  webhookSignatureHeaderValue,
  webhookTimestampHeader
} from './webhook-signature.js'

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

export interface WebhookStats {
  delivered: number
  failed: number
  // Deliveries that failed at least once and wait for another attempt.
  retrying: number
  // Every delivery not yet delivered or failed: waiting, in flight or retrying.
  pending: number
  lastError: { message: string, at: string, event: string, url: string } | null
  lastDeliveredAt: string | null
  byEvent: Record<string, { delivered: number, failed: number }>
}

export interface WebhookDispatcherOptions {
  urls: readonly string[]
  secret?: string
  events?: readonly string[] | 'all'
  dataDirectory: string
  // Sent as `User-Agent: whatsapp-otp-api/<version>`.
  version: string
  maxAttempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  requestTimeoutMs?: number
  concurrency?: number
  // How many failed deliveries to keep in <dataDirectory>/webhooks/failed/ for inspection;
  // the oldest are removed beyond this. 0 keeps none.
  keepFailedDeliveries?: number
  logger: WebhookLogger
  onResult?: (result: WebhookResult) => void
  // Milliseconds since the epoch.
  clock?: () => number
  // A number in [0, 1), for the backoff jitter.
  random?: () => number
}

export interface WebhookDispatcher {
  // sessionId is null for events about a phone number rather than a session (otp.verified, otp.failed).
  publish: (event: WebhookEvent, sessionId: string | null, data: unknown) => void
  start: () => Promise<void>
  close: () => Promise<void>
  stats: () => WebhookStats
}

// What is kept on disk for each delivery: enough to send the same request again after a restart.
interface StoredDelivery {
  id: string
  event: string
  url: string
  body: string
  attempts: number
  createdAt: number
  nextAttemptAt: number
}

interface Delivery extends StoredDelivery {
  timer: NodeJS.Timeout | undefined
  // Resolves once the delivery is on disk; no attempt starts before that.
  written: Promise<void>
}

type AttemptResult =
  | { kind: 'delivered', statusCode: number }
  | { kind: 'retry', statusCode?: number, error: string, retryAfterMs?: number }
  | { kind: 'failed', statusCode?: number, error: string }

export function createWebhookDispatcher (options: WebhookDispatcherOptions): WebhookDispatcher {
  const {
    urls,
    secret,
    events = 'all',
    dataDirectory,
    version,
    maxAttempts = 8,
    baseDelayMs = 1000,
    maxDelayMs = 5 * 60 * 1000,
    requestTimeoutMs = 10 * 1000,
    concurrency = 4,
    keepFailedDeliveries = 100,
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
  for (const [name, value] of Object.entries({ maxAttempts, concurrency })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`Webhook option ${name} must be a positive integer, got ${value}`)
  }

  const enabledEvents: ReadonlySet<string> | 'all' = events === 'all' ? 'all' : new Set(events)
  const pendingDirectory = join(dataDirectory, 'webhooks', 'pending')
  const failedDirectory = join(dataDirectory, 'webhooks', 'failed')
  const userAgent = `whatsapp-otp-api/${version}`

  let state: 'created' | 'starting' | 'running' | 'closed' = 'created'
  let startPromise: Promise<void> | undefined
  let directoriesReady: Promise<void> | undefined
  const deliveries = new Map<string, Delivery>()
  const readyQueue: Delivery[] = []
  let activeAttempts = 0
  // Every piece of background work (disk writes, attempts), so close() can wait for all of it.
  const backgroundWork = new Set<Promise<void>>()

  const counters = { delivered: 0, failed: 0 }
  const byEvent: Record<string, { delivered: number, failed: number }> = {}
  let lastError: WebhookStats['lastError'] = null
  let lastDeliveredAt: string | null = null

  function runInBackground (work: () => Promise<void>): void {
    const promise = work().catch((error: unknown) => {
      logger.error({ err: error }, 'webhook dispatcher background work failed')
    }).finally(() => backgroundWork.delete(promise))
    backgroundWork.add(promise)
  }

  function ensureDirectories (): Promise<void> {
    directoriesReady ??= (async () => {
      await mkdir(pendingDirectory, { recursive: true })
      await mkdir(failedDirectory, { recursive: true })
    })()
    return directoriesReady
  }

  function pendingPath (id: string): string {
    return join(pendingDirectory, `${id}.json`)
  }

  async function writePending (delivery: Delivery): Promise<void> {
    const stored: StoredDelivery = {
      id: delivery.id,
      event: delivery.event,
      url: delivery.url,
      body: delivery.body,
      attempts: delivery.attempts,
      createdAt: delivery.createdAt,
      nextAttemptAt: delivery.nextAttemptAt
    }
    await ensureDirectories()
    await writeFileAtomic(pendingPath(delivery.id), JSON.stringify(stored))
  }

  async function removePending (delivery: Delivery): Promise<void> {
    try {
      await rm(pendingPath(delivery.id), { force: true })
    } catch (error) {
      logger.error({ err: error, deliveryId: delivery.id }, 'could not remove finished webhook delivery from disk; it may be sent again after a restart')
    }
  }

  function publish (event: WebhookEvent, sessionId: string | null, data: unknown): void {
    try {
      if (urls.length === 0) return
      if (enabledEvents !== 'all' && !enabledEvents.has(event)) return
      const now = clock()
      const body = JSON.stringify({ event, sessionId, timestamp: new Date(now).toISOString(), data })
      for (const url of urls) {
        const delivery: Delivery = {
          id: randomUUID(),
          event,
          url,
          body,
          attempts: 0,
          createdAt: now,
          nextAttemptAt: now,
          timer: undefined,
          written: Promise.resolve()
        }
        if (state === 'closed') {
          // Late events during shutdown still go to disk, for the next start to deliver.
          runInBackground(() => writePending(delivery))
          logger.warn({ event, url, deliveryId: delivery.id }, 'webhook dispatcher is closed; delivery kept on disk for the next start')
          continue
        }
        // An attempt must never start before the delivery is on disk, or a crash could lose it.
        delivery.written = writePending(delivery).catch((error: unknown) => {
          logger.error({ err: error, event, url, deliveryId: delivery.id }, 'could not write webhook delivery to disk; it will be attempted but not survive a restart')
        })
        runInBackground(() => delivery.written)
        deliveries.set(delivery.id, delivery)
        if (state === 'running') schedule(delivery)
      }
    } catch (error) {
      // Publishing is a side effect of API calls and session events: it must never break them.
      logger.error({ err: error, event, sessionId }, 'could not publish webhook event')
    }
  }

  function schedule (delivery: Delivery): void {
    // Capped again here because a time read from disk may be far off if the system clock moved
    // back or maxDelayMs was lowered since it was written.
    const delay = Math.min(delivery.nextAttemptAt - clock(), maxDelayMs)
    if (delay <= 0) {
      readyQueue.push(delivery)
      startReadyAttempts()
      return
    }
    delivery.timer = setTimeout(() => {
      delivery.timer = undefined
      readyQueue.push(delivery)
      startReadyAttempts()
    }, delay)
  }

  function startReadyAttempts (): void {
    while (state === 'running' && activeAttempts < concurrency && readyQueue.length > 0) {
      const delivery = readyQueue.shift() as Delivery
      activeAttempts += 1
      runInBackground(async () => {
        try {
          await attemptDelivery(delivery)
        } finally {
          activeAttempts -= 1
          startReadyAttempts()
        }
      })
    }
  }

  async function attemptDelivery (delivery: Delivery): Promise<void> {
    await delivery.written
    const result = await postDelivery(delivery)
    delivery.attempts += 1
    const at = clock()

    if (result.kind === 'delivered') {
      deliveries.delete(delivery.id)
      await removePending(delivery)
      counters.delivered += 1
      eventCounters(delivery.event).delivered += 1
      lastDeliveredAt = new Date(at).toISOString()
      logger.debug({ event: delivery.event, url: delivery.url, deliveryId: delivery.id, attempts: delivery.attempts }, 'webhook delivered')
      report(delivery, 'delivered', result.statusCode)
      return
    }

    lastError = { message: result.error, at: new Date(at).toISOString(), event: delivery.event, url: delivery.url }
    if (result.kind === 'retry' && delivery.attempts < maxAttempts) {
      delivery.nextAttemptAt = at + (result.retryAfterMs ?? backoffDelay(delivery.attempts))
      await writePending(delivery).catch((error: unknown) => {
        logger.error({ err: error, deliveryId: delivery.id }, 'could not update webhook delivery on disk')
      })
      logger.info({ event: delivery.event, url: delivery.url, deliveryId: delivery.id, attempts: delivery.attempts, error: result.error, nextAttemptAt: new Date(delivery.nextAttemptAt).toISOString() }, 'webhook delivery will be retried')
      report(delivery, 'retry', result.statusCode, result.error)
      if (state === 'running') schedule(delivery)
      return
    }

    deliveries.delete(delivery.id)
    await removePending(delivery)
    counters.failed += 1
    eventCounters(delivery.event).failed += 1
    logger.warn({ event: delivery.event, url: delivery.url, deliveryId: delivery.id, attempts: delivery.attempts, error: result.error }, 'webhook delivery failed')
    report(delivery, 'failed', result.statusCode, result.error)
    await keepFailedDelivery(delivery, at, result.error).catch((error: unknown) => {
      logger.error({ err: error, deliveryId: delivery.id }, 'could not keep failed webhook delivery on disk')
    })
  }

  async function postDelivery (delivery: Delivery): Promise<AttemptResult> {
    const timestamp = Math.floor(clock() / 1000)
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': userAgent,
      [webhookEventHeader]: delivery.event,
      [webhookDeliveryHeader]: delivery.id,
      [webhookTimestampHeader]: String(timestamp)
    }
    if (secret !== undefined) headers[webhookSignatureHeader] = webhookSignatureHeaderValue(secret, timestamp, delivery.body)

    let response: Response
    try {
      response = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        // A redirected POST may turn into a GET elsewhere; the operator should fix the URL instead.
        redirect: 'manual',
        signal: AbortSignal.timeout(requestTimeoutMs)
      })
    } catch (error) {
      return { kind: 'retry', error: describeRequestError(error) }
    }
    // The answer's body is of no use to us; cancelling it frees the connection.
    await response.body?.cancel().catch(() => {})

    const statusCode = response.status
    if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode }
    const error = `HTTP ${statusCode}`
    if (statusCode === 429 || statusCode >= 500) {
      const retryAfterMs = statusCode === 429 || statusCode === 503
        ? parseRetryAfter(response.headers.get('retry-after'))
        : undefined
      return { kind: 'retry', statusCode, error, retryAfterMs }
    }
    return { kind: 'failed', statusCode, error }
  }

  // fetch rejects only with a TypeError (network) or a DOMException (the timeout's abort).
  function describeRequestError (error: unknown): string {
    const failure = error as Error
    if (failure.name === 'TimeoutError') return `no answer within ${requestTimeoutMs} ms`
    // Every network failure is "fetch failed"; the cause says which.
    const cause = failure.cause instanceof Error ? `: ${failure.cause.message}` : ''
    return failure.message + cause
  }

  // Retry-After is either seconds or an HTTP date; anything else is ignored in favour of backoff.
  function parseRetryAfter (value: string | null): number | undefined {
    if (value === null) return undefined
    const trimmed = value.trim()
    let delay: number
    if (/^\d+$/.test(trimmed)) {
      delay = Number(trimmed) * 1000
    } else {
      const date = Date.parse(trimmed)
      if (Number.isNaN(date)) return undefined
      delay = Math.max(0, date - clock())
    }
    return Math.min(delay, maxDelayMs)
  }

  // Full jitter: a random delay up to the exponential ceiling, so many receivers failing
  // at once do not all come back at the same moment.
  function backoffDelay (attempts: number): number {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempts - 1))
    return Math.floor(random() * ceiling)
  }

  function eventCounters (event: string): { delivered: number, failed: number } {
    byEvent[event] ??= { delivered: 0, failed: 0 }
    return byEvent[event]
  }

  function report (delivery: Delivery, outcome: WebhookOutcome, statusCode: number | undefined, error?: string): void {
    if (onResult === undefined) return
    const result: WebhookResult = { event: delivery.event, url: delivery.url, deliveryId: delivery.id, outcome, attempts: delivery.attempts }
    if (statusCode !== undefined) result.statusCode = statusCode
    if (error !== undefined) result.error = error
    try {
      onResult(result)
    } catch (callbackError) {
      logger.error({ err: callbackError }, 'webhook onResult callback threw')
    }
  }

  // Failed deliveries are kept for an operator to inspect or replay by hand; file names start
  // with the time so the oldest sort first and are removed once there are too many.
  async function keepFailedDelivery (delivery: Delivery, failedAt: number, error: string): Promise<void> {
    if (keepFailedDeliveries === 0) return
    await ensureDirectories()
    const fileName = `${String(failedAt).padStart(15, '0')}-${delivery.id}.json`
    const record = { id: delivery.id, event: delivery.event, url: delivery.url, body: delivery.body, attempts: delivery.attempts, createdAt: delivery.createdAt, failedAt, error }
    await writeFileAtomic(join(failedDirectory, fileName), JSON.stringify(record))
    const kept = (await readdir(failedDirectory)).filter((name) => name.endsWith('.json')).sort()
    const excess = kept.slice(0, Math.max(0, kept.length - keepFailedDeliveries))
    await Promise.all(excess.map((name) => rm(join(failedDirectory, name), { force: true })))
  }

  async function dropForRemovedUrl (delivery: Delivery): Promise<void> {
    const error = 'webhook URL is no longer configured'
    logger.warn({ event: delivery.event, url: delivery.url, deliveryId: delivery.id }, 'pending webhook delivery dropped: its URL was removed from WEBHOOK_URL')
    try {
      await keepFailedDelivery(delivery, clock(), error)
    } catch (keepError) {
      logger.error({ err: keepError, deliveryId: delivery.id }, 'could not keep the dropped webhook delivery with the failed ones')
    }
    await removePending(delivery)
  }

  async function loadPending (): Promise<void> {
    await ensureDirectories()
    const loaded: Delivery[] = []
    for (const name of await readdir(pendingDirectory)) {
      // Leftovers of writes interrupted by a crash; the file they were meant to replace is intact.
      if (!name.endsWith('.json')) continue
      const path = join(pendingDirectory, name)
      let stored: StoredDelivery
      try {
        stored = parseStoredDelivery(await readFile(path, 'utf8'))
      } catch (error) {
        logger.warn({ err: error, file: path }, 'skipping unreadable webhook delivery file')
        continue
      }
      const delivery: Delivery = { ...stored, timer: undefined, written: Promise.resolve() }
      if (!urls.includes(delivery.url)) {
        // The operator took this URL out of WEBHOOK_URL: it must not receive anything more. The
        // delivery is kept with the failed ones, where it can still be inspected or replayed by hand.
        await dropForRemovedUrl(delivery)
        continue
      }
      loaded.push(delivery)
    }
    loaded.sort((first, second) => first.createdAt - second.createdAt)
    // A delivery published before start() is both in memory and on disk: keyed by id, it is
    // still scheduled only once.
    for (const delivery of loaded) deliveries.set(delivery.id, delivery)
    if (loaded.length > 0) logger.info({ count: loaded.length }, 'loaded pending webhook deliveries')
  }

  function start (): Promise<void> {
    if (state === 'closed') return Promise.reject(new Error('webhook dispatcher is closed'))
    startPromise ??= (async () => {
      state = 'starting'
      await loadPending()
      // close() may have been called while loading; it then owns what is on disk.
      if (state !== 'starting') return
      state = 'running'
      for (const delivery of deliveries.values()) schedule(delivery)
    })()
    return startPromise
  }

  // Safe to call again: each call resolves once all background work, including disk writes
  // of events published after the first close, has finished.
  async function close (): Promise<void> {
    state = 'closed'
    readyQueue.length = 0
    for (const delivery of deliveries.values()) {
      clearTimeout(delivery.timer)
      delivery.timer = undefined
    }
    if (startPromise !== undefined) await startPromise.catch(() => {})
    // In-flight requests end within requestTimeoutMs through their own abort signal;
    // their outcome is written to disk before this resolves.
    while (backgroundWork.size > 0) await Promise.allSettled([...backgroundWork])
  }

  function stats (): WebhookStats {
    let retrying = 0
    for (const delivery of deliveries.values()) if (delivery.attempts > 0) retrying += 1
    const byEventCopy: WebhookStats['byEvent'] = {}
    for (const [event, counts] of Object.entries(byEvent)) byEventCopy[event] = { ...counts }
    return {
      delivered: counters.delivered,
      failed: counters.failed,
      retrying,
      pending: deliveries.size,
      lastError: lastError === null ? null : { ...lastError },
      lastDeliveredAt,
      byEvent: byEventCopy
    }
  }

  return { publish, start, close, stats }
}

function parseStoredDelivery (text: string): StoredDelivery {
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null) throw new Error('not a JSON object')
  const record = value as Record<string, unknown>
  for (const key of ['id', 'event', 'url', 'body'] as const) {
    if (typeof record[key] !== 'string') throw new Error(`field ${key} is not a string`)
  }
  for (const key of ['attempts', 'createdAt', 'nextAttemptAt'] as const) {
    if (typeof record[key] !== 'number' || !Number.isFinite(record[key])) throw new Error(`field ${key} is not a number`)
  }
  return record as unknown as StoredDelivery
}
