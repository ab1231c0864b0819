import { once } from 'node:events'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { freePort } from './processes.js'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import {
  assertWebhookEvents,
  createWebhookDispatcher,
  isWebhookEvent,
  webhookEvents,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookResult
} from '../src/webhook-dispatcher.js'
import { verifyWebhookSignature } from '../src/webhook-signature.js'
import { importSpooledDeliveries } from '../src/webhook-spool-import.js'
import type { ClaimedWebhookDelivery, StateStore, WebhookDeliveryQueue } from '../src/state/state-store.js'
import { openTestStateStore } from './helpers/state-store.js'

interface ReceivedRequest {
  method: string
  headers: IncomingHttpHeaders
  body: string
  receivedAt: number
  deliveryId: string
  event: string
}

// Decides how the receiver answers one request; `index` counts requests from 0.
type Answer = (request: ReceivedRequest, response: ServerResponse, index: number) => void | Promise<void>

interface Receiver {
  url: string
  requests: ReceivedRequest[]
  // Resolves once the receiver has seen at least `count` requests in total.
  waitForRequests: (count: number) => Promise<ReceivedRequest[]>
}

// A real HTTP server on 127.0.0.1, the way a user's webhook endpoint would be.
async function startReceiver (t: Test, answer: Answer): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const waiters: Array<{ count: number, resolve: () => void }> = []
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const request: ReceivedRequest = {
        method: incoming.method ?? '',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        deliveryId: String(incoming.headers['x-webhook-delivery']),
        event: String(incoming.headers['x-webhook-event'])
      }
      const index = requests.length
      requests.push(request)
      for (const waiter of waiters.filter((candidate) => requests.length >= candidate.count)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
      void answer(request, response, index)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    waitForRequests: async (count) => {
      if (requests.length < count) await new Promise<void>((resolve) => waiters.push({ count, resolve }))
      return requests
    }
  }
}

function answerWith (statusCode: number, headers: Record<string, string> = {}): Answer {
  return (_request, response) => {
    response.writeHead(statusCode, headers)
    response.end('ok')
  }
}

interface ResultCollector {
  results: WebhookResult[]
  onResult: (result: WebhookResult) => void
  // Resolves once `count` results with this outcome have been reported.
  waitFor: (outcome: WebhookResult['outcome'], count?: number) => Promise<WebhookResult[]>
}

function collectResults (): ResultCollector {
  const results: WebhookResult[] = []
  const waiters: Array<() => void> = []
  const matching = (outcome: WebhookResult['outcome']): WebhookResult[] => results.filter((result) => result.outcome === outcome)
  return {
    results,
    onResult: (result) => {
      results.push(result)
      for (const waiter of waiters.splice(0)) waiter()
    },
    waitFor: async (outcome, count = 1) => {
      while (matching(outcome).length < count) await new Promise<void>((resolve) => waiters.push(resolve))
      return matching(outcome)
    }
  }
}

interface LogEntry { level: string, object: Record<string, unknown>, message: string | undefined }

function captureLogger (): WebhookDispatcherOptions['logger'] & { entries: LogEntry[] } {
  const entries: LogEntry[] = []
  const log = (level: string) => (object: object, message?: string) => {
    entries.push({ level, object: object as Record<string, unknown>, message })
  }
  return { entries, info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') }
}

const secret = 'test-secret'

interface TestQueue {
  store: StateStore
  queue: WebhookDeliveryQueue
  // Every retry written, with the time it was set for.
  retries: Array<{ id: string, nextAttemptAt: number }>
  // Moves the store's clock, as if the service had been down that long.
  shiftTime: (milliseconds: number) => void
  dispatchers: WebhookDispatcher[]
}

// One state store per data directory, as the service has: two dispatchers on the same directory
// are the same service before and after a restart.
const testQueues = new Map<string, Promise<TestQueue>>()

function queueFor (t: Test, dataDirectory: string): Promise<TestQueue> {
  let found = testQueues.get(dataDirectory)
  if (found === undefined) {
    found = (async () => {
      let shift = 0
      const dispatchers: WebhookDispatcher[] = []
      const retries: TestQueue['retries'] = []
      // The dispatchers close first: their last writes go to an open store.
      t.teardown(async () => { for (const dispatcher of dispatchers) await dispatcher.close() })
      const store = await openTestStateStore(t, { directory: join(dataDirectory, 'state'), clock: () => Date.now() + shift })
      const queue: WebhookDeliveryQueue = {
        ...store.webhookDeliveries,
        retry: async (delivery, nextAttemptAt) => {
          retries.push({ id: delivery.id, nextAttemptAt })
          return await store.webhookDeliveries.retry(delivery, nextAttemptAt)
        }
      }
      return { store, queue, retries, dispatchers, shiftTime: (milliseconds) => { shift += milliseconds } }
    })()
    testQueues.set(dataDirectory, found)
  }
  return found
}

async function createDispatcher (t: Test, options: Partial<WebhookDispatcherOptions> & Pick<WebhookDispatcherOptions, 'urls' | 'dataDirectory'>): Promise<WebhookDispatcher> {
  const testQueue = await queueFor(t, options.dataDirectory)
  const dispatcher = createWebhookDispatcher({
    secret,
    version: '1.2.3',
    baseDelayMs: 5,
    maxDelayMs: 50,
    requestTimeoutMs: 2000,
    logger: captureLogger(),
    queue: testQueue.queue,
    ...options
  })
  testQueue.dispatchers.push(dispatcher)
  return dispatcher
}

function failedDirectory (dataDirectory: string): string {
  return join(dataDirectory, 'webhooks', 'failed')
}

async function pendingCount (t: Test, dataDirectory: string): Promise<number> {
  return (await (await queueFor(t, dataDirectory)).queue.stats()).pending
}

// A port nothing listens on: freePort binds one and releases it.
const closedPort = freePort

// For background work with no event to wait on: checks again on each turn of the event loop.
async function waitUntil (condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve))
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('webhookEvents and event name validation', async (t) => {
  t.same([...webhookEvents], [
    'session.qr', 'session.connected', 'session.disconnected', 'session.logged_out', 'session.replaced', 'session.restricted', 'session.restriction_lifted',
    'message.received', 'message.status', 'otp.sent', 'otp.verified', 'otp.failed'
  ])
  t.equal(isWebhookEvent('otp.sent'), true)
  t.equal(isWebhookEvent('otp.send'), false)
  t.doesNotThrow(() => assertWebhookEvents(['session.qr', 'otp.failed']))
  t.throws(() => assertWebhookEvents(['otp.sent', 'otp.send', 'session.gone']), /Unknown webhook event otp\.send, session\.gone; known events: session\.qr/)
})

t.test('invalid options throw at creation', async (t) => {
  const dataDirectory = t.testdir()
  const { queue } = await queueFor(t, dataDirectory)
  const base = { urls: ['http://127.0.0.1:1/'], dataDirectory, queue, version: '1', logger: captureLogger() }
  t.throws(() => createWebhookDispatcher({ ...base, events: ['otp.sent', 'otp.nope'] }), /Unknown webhook event otp\.nope/)
  t.throws(() => createWebhookDispatcher({ ...base, urls: ['ftp://example.com/'] }), /ftp:\/\/example\.com\/ is not an http or https URL/)
  t.throws(() => createWebhookDispatcher({ ...base, urls: ['not a url'] }), /not a url is not an http or https URL/)
  t.throws(() => createWebhookDispatcher({ ...base, maxAttempts: 0 }), /maxAttempts must be a positive integer/)
  t.throws(() => createWebhookDispatcher({ ...base, concurrency: 1.5 }), /concurrency must be a positive integer/)
})

t.test('a delivery is signed, durable before it is sent, and verifies with the receiver\'s code', async (t) => {
  const dataDirectory = t.testdir()
  let pendingWhenReceived = 0
  const receiver = await startReceiver(t, async (_request, response) => {
    pendingWhenReceived = await pendingCount(t, dataDirectory)
    response.writeHead(204)
    response.end()
  })
  const collector = collectResults()
  const publishedAt = Date.parse('2025-03-04T05:06:07.089Z')
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    onResult: collector.onResult,
    clock: () => publishedAt
  })
  await dispatcher.start()

  const returned = dispatcher.publish('otp.sent', 'main', { to: '628123456789', messageId: 'ABC' }) as unknown
  t.equal(returned, undefined, 'publish returns nothing to wait for')
  const [delivered] = await collector.waitFor('delivered')
  const [request] = receiver.requests

  t.equal(request.method, 'POST')
  t.equal(request.headers['content-type'], 'application/json')
  t.equal(request.headers['user-agent'], 'whatsapp-otp-api/1.2.3')
  t.equal(request.headers['x-webhook-event'], 'otp.sent')
  t.match(request.deliveryId, uuidPattern)
  t.equal(request.headers['x-webhook-timestamp'], String(Math.floor(publishedAt / 1000)))
  t.same(JSON.parse(request.body), { event: 'otp.sent', sessionId: 'main', timestamp: '2025-03-04T05:06:07.089Z', data: { to: '628123456789', messageId: 'ABC' } })
  t.equal(verifyWebhookSignature(secret, request.headers['x-webhook-timestamp'], request.body, request.headers['x-webhook-signature'], { now: publishedAt }), true, 'signature verifies')
  t.equal(verifyWebhookSignature('wrong', request.headers['x-webhook-timestamp'], request.body, request.headers['x-webhook-signature'], { now: publishedAt }), false)

  t.equal(pendingWhenReceived, 1, 'the delivery was in the queue before the request')
  t.same(delivered, { event: 'otp.sent', url: receiver.url, deliveryId: request.deliveryId, outcome: 'delivered', statusCode: 204, attempts: 1 })
  t.equal(await pendingCount(t, dataDirectory), 0, 'delivered, so out of the queue')
  t.same(await dispatcher.stats(), {
    delivered: 1,
    failed: 0,
    retrying: 0,
    pending: 0,
    lastError: null,
    lastDeliveredAt: '2025-03-04T05:06:07.089Z',
    byEvent: { 'otp.sent': { delivered: 1, failed: 0 } }
  })
})

t.test('without a secret no signature header is sent', async (t) => {
  const receiver = await startReceiver(t, answerWith(200))
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory: t.testdir(),
    secret: undefined,
    onResult: collector.onResult
  })
  await dispatcher.start()
  dispatcher.publish('session.connected', 's1', {})
  await collector.waitFor('delivered')
  t.equal(receiver.requests[0].headers['x-webhook-signature'], undefined)
  t.ok(receiver.requests[0].headers['x-webhook-timestamp'])
})

t.test('one delivery per URL, each with its own id', async (t) => {
  const first = await startReceiver(t, answerWith(200))
  const second = await startReceiver(t, answerWith(200))
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [first.url, second.url], dataDirectory: t.testdir(), onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('session.qr', 's1', { qr: 'x' })
  await collector.waitFor('delivered', 2)
  t.equal(first.requests.length, 1)
  t.equal(second.requests.length, 1)
  t.not(first.requests[0].deliveryId, second.requests[0].deliveryId)
  t.equal(first.requests[0].body, second.requests[0].body)
  t.equal((await dispatcher.stats()).delivered, 2)
})

t.test('with no URLs publish does nothing', async (t) => {
  const dataDirectory = t.testdir()
  const dispatcher = await createDispatcher(t, { urls: [], dataDirectory })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await dispatcher.close()
  t.equal(await pendingCount(t, dataDirectory), 0)
})

t.test('a 500 then a 200 delivers exactly once with the same delivery id', async (t) => {
  const dataDirectory = t.testdir()
  let statsDuringRetry: unknown
  const receiver = await startReceiver(t, async (_request, response, index) => {
    if (index === 1) statsDuringRetry = await dispatcher.stats()
    response.writeHead(index === 0 ? 500 : 200)
    response.end()
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('otp.verified', 's1', { to: '62811' })

  await collector.waitFor('delivered')
  await dispatcher.close()
  t.equal(receiver.requests.length, 2, 'sent twice, delivered once')
  t.equal(receiver.requests[0].deliveryId, receiver.requests[1].deliveryId, 'same delivery id on the retry')
  t.equal(receiver.requests[0].body, receiver.requests[1].body, 'same body on the retry')
  t.same(collector.results.map(({ outcome, statusCode, attempts }) => ({ outcome, statusCode, attempts })), [
    { outcome: 'retry', statusCode: 500, attempts: 1 },
    { outcome: 'delivered', statusCode: 200, attempts: 2 }
  ])
  t.equal(collector.results[0].error, 'HTTP 500')
  t.match(statsDuringRetry, { retrying: 1, pending: 1, delivered: 0, lastError: { message: 'HTTP 500', event: 'otp.verified', url: receiver.url } })
  t.match(await dispatcher.stats(), { delivered: 1, failed: 0, retrying: 0, pending: 0, byEvent: { 'otp.verified': { delivered: 1, failed: 0 } } })
  t.equal(await pendingCount(t, dataDirectory), 0)
})

t.test('a 400 is not retried and the failure is kept for inspection', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(400))
  const collector = collectResults()
  const clock = () => Date.parse('2025-06-01T00:00:00.000Z')
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, clock })
  await dispatcher.start()
  dispatcher.publish('otp.failed', 's1', { reason: 'x' })

  const [failed] = await collector.waitFor('failed')
  await dispatcher.close()
  t.equal(receiver.requests.length, 1)
  t.same(failed, { event: 'otp.failed', url: receiver.url, deliveryId: receiver.requests[0].deliveryId, outcome: 'failed', statusCode: 400, attempts: 1, error: 'HTTP 400' })
  t.same(await dispatcher.stats(), {
    delivered: 0,
    failed: 1,
    retrying: 0,
    pending: 0,
    lastError: { message: 'HTTP 400', at: '2025-06-01T00:00:00.000Z', event: 'otp.failed', url: receiver.url },
    lastDeliveredAt: null,
    byEvent: { 'otp.failed': { delivered: 0, failed: 1 } }
  })
  t.equal(await pendingCount(t, dataDirectory), 0)
  const kept = await readdir(failedDirectory(dataDirectory))
  t.equal(kept.length, 1)
  t.match(JSON.parse(await readFile(join(failedDirectory(dataDirectory), kept[0]), 'utf8')), {
    id: receiver.requests[0].deliveryId, event: 'otp.failed', url: receiver.url, body: receiver.requests[0].body, attempts: 1, error: 'HTTP 400'
  })
})

t.test('a redirect is not followed and fails', async (t) => {
  const target = await startReceiver(t, answerWith(200))
  const receiver = await startReceiver(t, answerWith(307, { location: target.url }))
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  const [failed] = await collector.waitFor('failed')
  t.equal(failed.statusCode, 307)
  t.equal(target.requests.length, 0)
})

t.test('failed deliveries kept on disk are bounded', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(422))
  const collector = collectResults()
  let now = 1_000
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    onResult: collector.onResult,
    keepFailedDeliveries: 2,
    concurrency: 1,
    clock: () => now++
  })
  await dispatcher.start()
  for (let index = 0; index < 4; index += 1) dispatcher.publish('message.status', 's1', { index })
  await collector.waitFor('failed', 4)
  await dispatcher.close()
  const kept = (await readdir(failedDirectory(dataDirectory))).sort()
  t.equal(kept.length, 2)
  const keptIndexes = await Promise.all(kept.map(async (name) => JSON.parse(JSON.parse(await readFile(join(failedDirectory(dataDirectory), name), 'utf8')).body).data.index))
  t.same(keptIndexes, [2, 3], 'the newest are kept')
})

t.test('keepFailedDeliveries 0 keeps none', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(404))
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    onResult: collector.onResult,
    keepFailedDeliveries: 0
  })
  await dispatcher.start()
  dispatcher.publish('message.status', 's1', {})
  await collector.waitFor('failed')
  await dispatcher.close()
  await t.rejects(readdir(failedDirectory(dataDirectory)), { code: 'ENOENT' }, 'nothing kept')
})

t.test('a 429 with Retry-After in seconds is honoured', async (t) => {
  const receiver = await startReceiver(t, (_request, response, index) => {
    response.writeHead(index === 0 ? 429 : 200, index === 0 ? { 'retry-after': '1' } : {})
    response.end()
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory: t.testdir(),
    onResult: collector.onResult,
    baseDelayMs: 1,
    maxDelayMs: 5000
  })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  const gap = receiver.requests[1].receivedAt - receiver.requests[0].receivedAt
  t.ok(gap >= 990, `waited ${gap} ms for Retry-After: 1`)
  t.equal(collector.results[0].statusCode, 429)
})

t.test('a 503 with Retry-After as a date is honoured but capped at maxDelayMs', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, async (_request, response, index) => {
    if (index === 0) {
      response.writeHead(503, { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() })
    } else {
      response.writeHead(200)
    }
    response.end()
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    onResult: collector.onResult,
    baseDelayMs: 1,
    maxDelayMs: 300
  })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  const gap = receiver.requests[1].receivedAt - receiver.requests[0].receivedAt
  t.ok(gap >= 290, `waited ${gap} ms, the cap`)
  const scheduledDelay = (await queueFor(t, dataDirectory)).retries[0].nextAttemptAt - receiver.requests[0].receivedAt
  t.ok(scheduledDelay >= 290 && scheduledDelay < 400, `scheduled ${scheduledDelay} ms after the first request`)
})

t.test('a Retry-After that cannot be read, comes with a 500, or lies in the past causes no long wait', async (t) => {
  const receiver = await startReceiver(t, (_request, response, index) => {
    if (index === 0) response.writeHead(503, { 'retry-after': 'soon' })
    else if (index === 1) response.writeHead(500, { 'retry-after': '3600' })
    else if (index === 2) response.writeHead(429, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() })
    else response.writeHead(200)
    response.end()
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory: t.testdir(),
    onResult: collector.onResult,
    baseDelayMs: 5,
    maxDelayMs: 60_000
  })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  // Had any of these Retry-After values been taken literally, this would wait an hour.
  await collector.waitFor('delivered')
  t.same(collector.results.map((result) => result.statusCode), [503, 500, 429, 200])
})

t.test('backoff grows exponentially with jitter and is capped', async (t) => {
  const dataDirectory = t.testdir()
  const start = 1_000_000
  // A clock that stands still makes every scheduled delay equal to the computed backoff.
  const clock = () => start
  const receiver = await startReceiver(t, async (_request, response, index) => {
    // Without Retry-After, 429 and 503 back off like any other retryable answer.
    response.writeHead([502, 429, 503, 500][index] ?? 200)
    response.end()
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    onResult: collector.onResult,
    clock,
    random: () => 0.5,
    baseDelayMs: 20,
    maxDelayMs: 60
  })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  // Half (the jitter) of 20, 40, then 80 and 160 capped at 60.
  t.same((await queueFor(t, dataDirectory)).retries.map((retry) => retry.nextAttemptAt - start), [10, 20, 30, 30])
})

t.test('a network error (closed port) is retried until maxAttempts, then failed', async (t) => {
  const dataDirectory = t.testdir()
  const url = `http://127.0.0.1:${await closedPort()}/hooks`
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [url], dataDirectory, onResult: collector.onResult, maxAttempts: 3 })
  await dispatcher.start()
  dispatcher.publish('session.disconnected', 's1', { reason: 'network' })
  await collector.waitFor('failed')
  t.same(collector.results.map(({ outcome, attempts, statusCode }) => ({ outcome, attempts, statusCode })), [
    { outcome: 'retry', attempts: 1, statusCode: undefined },
    { outcome: 'retry', attempts: 2, statusCode: undefined },
    { outcome: 'failed', attempts: 3, statusCode: undefined }
  ])
  t.match(collector.results[2].error, /fetch failed: .*ECONNREFUSED/)
  t.match(await dispatcher.stats(), { failed: 1, pending: 0, lastError: { message: /ECONNREFUSED/, event: 'session.disconnected', url } })
  await dispatcher.close()
  t.equal(await pendingCount(t, dataDirectory), 0)
})

t.test('maxAttempts of 5xx answers leads to failed', async (t) => {
  const receiver = await startReceiver(t, answerWith(500))
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory: t.testdir(),
    onResult: collector.onResult,
    maxAttempts: 4
  })
  await dispatcher.start()
  dispatcher.publish('message.received', 's1', { from: '62811', text: 'hi' })
  const [failed] = await collector.waitFor('failed')
  await dispatcher.close()
  t.equal(receiver.requests.length, 4)
  t.equal(new Set(receiver.requests.map((request) => request.deliveryId)).size, 1)
  t.match(failed, { outcome: 'failed', attempts: 4, statusCode: 500 })
  t.match(await dispatcher.stats(), { failed: 1, delivered: 0, byEvent: { 'message.received': { failed: 1, delivered: 0 } } })
})

t.test('a connection dropped by the receiver is retried', async (t) => {
  const receiver = await startReceiver(t, (request, response, index) => {
    if (index === 0) response.socket?.destroy()
    else answerWith(200)(request, response, index)
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  t.match(collector.results[0], { outcome: 'retry', statusCode: undefined, error: /fetch failed/ })
  t.equal(receiver.requests.length, 2)
})

t.test('a receiver that does not answer in time is retried', async (t) => {
  const held: ServerResponse[] = []
  t.teardown(() => { for (const response of held) response.destroy() })
  const receiver = await startReceiver(t, (request, response, index) => {
    if (index === 0) held.push(response)
    else answerWith(200)(request, response, index)
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory: t.testdir(),
    onResult: collector.onResult,
    requestTimeoutMs: 100
  })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  t.same(collector.results[0], { event: 'otp.sent', url: receiver.url, deliveryId: receiver.requests[0].deliveryId, outcome: 'retry', attempts: 1, error: 'no answer within 100 ms' })
})

t.test('the events filter drops other events', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, events: ['otp.sent', 'session.connected'], onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('session.qr', 's1', {})
  dispatcher.publish('otp.sent', 's1', {})
  dispatcher.publish('message.received', 's1', {})
  dispatcher.publish('session.connected', 's1', {})
  await collector.waitFor('delivered', 2)
  await dispatcher.close()
  t.same(receiver.requests.map((request) => request.event).sort(), ['otp.sent', 'session.connected'])
  t.equal(await pendingCount(t, dataDirectory), 0, 'the other events were never queued')
  t.same(Object.keys((await dispatcher.stats()).byEvent).sort(), ['otp.sent', 'session.connected'])
})

t.test('at most `concurrency` requests are in flight', async (t) => {
  let inFlight = 0
  let mostInFlight = 0
  const receiver = await startReceiver(t, (request, response, index) => {
    inFlight += 1
    mostInFlight = Math.max(mostInFlight, inFlight)
    setTimeout(() => {
      inFlight -= 1
      answerWith(200)(request, response, index)
    }, 20)
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory: t.testdir(),
    onResult: collector.onResult,
    concurrency: 2
  })
  await dispatcher.start()
  for (let index = 0; index < 6; index += 1) dispatcher.publish('message.status', 's1', { index })
  await collector.waitFor('delivered', 6)
  t.equal(mostInFlight, 2)
})

t.test('after a clean shutdown pending deliveries are delivered by the next dispatcher: none lost, none twice', async (t) => {
  const dataDirectory = t.testdir()
  let receiverUp = false
  // Down at first for everything except otp.sent, which is delivered before the shutdown.
  const receiver = await startReceiver(t, (request, response) => {
    if (receiverUp || request.event === 'otp.sent') {
      response.writeHead(200)
    } else {
      response.writeHead(503, { 'retry-after': '60' })
    }
    response.end()
  })

  const firstCollector = collectResults()
  const first = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: firstCollector.onResult, maxDelayMs: 60_000 })
  await first.start()
  first.publish('session.connected', 's1', {})
  first.publish('otp.sent', 's1', {})
  first.publish('message.received', 's1', {})
  first.publish('session.disconnected', 's1', {})
  await firstCollector.waitFor('retry', 3)
  await firstCollector.waitFor('delivered', 1)
  await first.close()
  t.match(await first.stats(), { delivered: 1, retrying: 3, pending: 3 })
  const waitingIds = firstCollector.results.filter((result) => result.outcome === 'retry').map((result) => result.deliveryId).sort()
  const deliveredBeforeShutdown = firstCollector.results.find((result) => result.outcome === 'delivered')?.deliveryId
  t.equal(receiver.requests.length, 4)

  receiverUp = true
  const secondCollector = collectResults()
  // 61 seconds later, as if the service had been down that long: the Retry-After has passed.
  ;(await queueFor(t, dataDirectory)).shiftTime(61_000)
  const second = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    onResult: secondCollector.onResult,
    maxDelayMs: 60_000,
    clock: () => Date.now() + 61_000
  })
  await second.start()
  const delivered = await secondCollector.waitFor('delivered', 3)
  await second.close()

  t.same(delivered.map((result) => result.deliveryId).sort(), waitingIds, 'the same deliveries, by id')
  t.same(delivered.map((result) => result.attempts), [2, 2, 2], 'the attempt count carried over')
  t.equal(receiver.requests.length, 7, 'four before, three after')
  t.equal(receiver.requests.filter((request) => request.deliveryId === deliveredBeforeShutdown).length, 1, 'the delivered one was not sent again')
  t.equal(await pendingCount(t, dataDirectory), 0)
  t.same((await second.stats()).byEvent, {
    'session.connected': { delivered: 1, failed: 0 },
    'message.received': { delivered: 1, failed: 0 },
    'session.disconnected': { delivered: 1, failed: 0 }
  }, 'per event: this process\'s own')
})

t.test('a delivery waiting for its retry time is not sent early after a restart', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(503, { 'retry-after': '60' }))
  const collector = collectResults()
  const first = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, maxDelayMs: 60_000 })
  await first.start()
  first.publish('otp.sent', 's1', {})
  await collector.waitFor('retry')
  await first.close()

  const logger = captureLogger()
  const second = await createDispatcher(t, { urls: [receiver.url], dataDirectory, maxDelayMs: 60_000, logger })
  await second.start()
  t.match(await second.stats(), { pending: 1, retrying: 1 })
  await second.close()
  t.equal(receiver.requests.length, 1)
  t.equal(await pendingCount(t, dataDirectory), 1)
})

t.test('two dispatchers on one queue (two instances on one Redis) send each delivery once', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const collector = collectResults()
  const publisher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  const other = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  await publisher.start()
  await other.start()
  for (let index = 0; index < 20; index += 1) publisher.publish('message.status', 's1', { index })
  await collector.waitFor('delivered', 20)
  await publisher.close()
  await other.close()
  t.equal(receiver.requests.length, 20)
  t.equal(new Set(receiver.requests.map((request) => request.deliveryId)).size, 20)
})

t.test('a delivery claimed by a dispatcher that died is sent by another once the claim runs out', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const { queue } = await queueFor(t, dataDirectory)
  const writer = await createDispatcher(t, { urls: [receiver.url], dataDirectory })
  writer.publish('otp.sent', 's1', { n: 1 })
  await writer.close()
  // What a process killed mid-attempt leaves: a claim nobody will settle.
  const [claimed] = await queue.claim(1, 200)
  t.ok(claimed)

  const collector = collectResults()
  const survivor = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, pollIntervalMs: 50 })
  await survivor.start()
  const [delivered] = await collector.waitFor('delivered')
  t.equal(delivered.deliveryId, claimed.id)
  t.equal(await queue.ack(claimed), false, 'the dead claim can no longer settle it')
  t.equal(receiver.requests.length, 1)
})

// A dispatcher with a claim of 600 ms (extended every 200 ms: a margin of 400 ms for a busy
// machine) whose receiver holds every request open, once its first request arrived.
async function requestHeldOpen (t: Test) {
  const dataDirectory = t.testdir()
  const { queue, shiftTime } = await queueFor(t, dataDirectory)
  const claimLeaseMs = 600
  const held: ServerResponse[] = []
  const receiver = await startReceiver(t, (_request, response) => { held.push(response) })
  const logger = captureLogger()
  const collector = collectResults()
  const sender = await createDispatcher(t, {
    urls: [receiver.url], dataDirectory, claimLeaseMs, requestTimeoutMs: 10_000, logger, onResult: collector.onResult
  })
  await sender.start()
  sender.publish('otp.sent', 's1', {})
  await receiver.waitForRequests(1)
  return { dataDirectory, queue, shiftTime, claimLeaseMs, held, receiver, logger, collector }
}

t.test('a claim is extended while its request is in flight: a receiver slower than the claim gets the delivery once', async (t) => {
  const { dataDirectory, queue, claimLeaseMs, held, receiver, logger, collector } = await requestHeldOpen(t)
  const claimedBefore = Date.now()

  // Another instance, looking at the queue all the time, until it has looked twice the claim's
  // lease after the request arrived.
  let lookedLongEnough: () => void = () => {}
  const looked = new Promise<void>((resolve) => { lookedLongEnough = resolve })
  const watched: WebhookDeliveryQueue = {
    ...queue,
    claim: async (limit, leaseMs) => {
      const claimed = await queue.claim(limit, leaseMs)
      if (Date.now() > claimedBefore + 2 * claimLeaseMs) lookedLongEnough()
      return claimed
    }
  }
  const other = await createDispatcher(t, {
    urls: [receiver.url], dataDirectory, claimLeaseMs, queue: watched, pollIntervalMs: 20, onResult: collector.onResult
  })
  await other.start()
  await looked
  t.equal(receiver.requests.length, 1, 'nobody else sent it while its request was in flight')

  held[0]!.writeHead(204).end()
  await collector.waitFor('delivered')
  t.same(collector.results.map((result) => result.outcome), ['delivered'])
  t.match(await queue.stats(), { pending: 0, delivered: 1 })
  t.same(logger.entries.filter((entry) => entry.level !== 'debug'), [], 'no claim ran out')
})

t.test('a claim taken over while its request is in flight is no longer extended, and its late result is not counted', async (t) => {
  const { queue, shiftTime, claimLeaseMs, held, logger, collector } = await requestHeldOpen(t)

  // As if the sender had stalled past its claim: another instance takes the delivery over. An
  // extension may land between the clock's move and the claim, so the clock moves again then.
  let takenOver: ClaimedWebhookDelivery | undefined
  while (takenOver === undefined) {
    shiftTime(claimLeaseMs)
    takenOver = (await queue.claim(1, 60_000))[0]
  }
  const lost = 'webhook delivery claim ran out while its request was in flight; another instance may send it too'
  await waitUntil(async () => logger.entries.some((entry) => entry.level === 'warn' && entry.message === lost))

  held[0]!.writeHead(204).end()
  await collector.waitFor('delivered')
  const unwritten = 'webhook delivery claim ran out before its result was written; another attempt may follow'
  t.ok(logger.entries.some((entry) => entry.message === unwritten), 'the sender says its result was not written')
  t.match(await queue.stats(), { pending: 1, delivered: 0 }, 'the late result of the lost claim is not counted')
  t.equal(await queue.ack(takenOver), true, 'the instance that took it over settles it')
  t.match(await queue.stats(), { pending: 0, delivered: 1 })
  t.equal(logger.entries.filter((entry) => entry.message === lost).length, 1, 'no extension tried after the claim was lost')
})

t.test('pending deliveries to a URL removed from the configuration are not sent after a restart', async (t) => {
  const dataDirectory = t.testdir()
  const kept = await startReceiver(t, answerWith(503, { 'retry-after': '60' }))
  const removed = await startReceiver(t, answerWith(503, { 'retry-after': '60' }))
  const collector = collectResults()
  const first = await createDispatcher(t, {
    urls: [kept.url, removed.url],
    dataDirectory,
    onResult: collector.onResult,
    maxDelayMs: 60_000
  })
  await first.start()
  first.publish('otp.sent', 's1', {})
  await collector.waitFor('retry', 2)
  await first.close()
  t.equal(await pendingCount(t, dataDirectory), 2)

  // Restarted with only one of the URLs, 61 seconds later: both retries would be due.
  ;(await queueFor(t, dataDirectory)).shiftTime(61_000)
  const second = await createDispatcher(t, { urls: [kept.url], dataDirectory, maxDelayMs: 60_000, clock: () => Date.now() + 61_000 })
  await second.start()
  await kept.waitForRequests(2)
  await second.close()
  t.equal(removed.requests.length, 1, 'the removed URL got nothing after the restart')
  t.equal(await pendingCount(t, dataDirectory), 1, 'only the delivery to the configured URL is pending')
  const failed = await readdir(failedDirectory(dataDirectory))
  t.equal(failed.length, 1, 'the dropped delivery is kept with the failed ones')
  t.match(JSON.parse(await readFile(join(failedDirectory(dataDirectory), failed[0]), 'utf8')), { url: removed.url, event: 'otp.sent', error: 'webhook URL is no longer configured' })
})

t.test('events published before start are delivered once after start', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  dispatcher.publish('session.qr', 's1', { qr: 'a' })
  dispatcher.publish('session.qr', 's1', { qr: 'b' })
  await waitUntil(async () => await pendingCount(t, dataDirectory) === 2)
  t.equal(receiver.requests.length, 0, 'nothing is sent before start')
  await dispatcher.start()
  await collector.waitFor('delivered', 2)
  await dispatcher.close()
  t.equal(receiver.requests.length, 2)
  t.same(receiver.requests.map((request) => JSON.parse(request.body).data.qr).sort(), ['a', 'b'])
})

t.test('events published after close stay in the queue for the next start', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const logger = captureLogger()
  const first = await createDispatcher(t, { urls: [receiver.url], dataDirectory, logger })
  await first.start()
  await first.close()
  first.publish('session.disconnected', 's1', { reason: 'shutdown' })
  await first.close()
  t.equal(await pendingCount(t, dataDirectory), 1)
  t.equal(receiver.requests.length, 0)
  t.ok(logger.entries.some((entry) => entry.level === 'warn' && /kept in the queue for the next start/.test(entry.message ?? '')))
  await t.rejects(first.start(), /webhook dispatcher is closed/)

  const collector = collectResults()
  const second = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  await second.start()
  await collector.waitFor('delivered')
  t.same(JSON.parse(receiver.requests[0].body).data, { reason: 'shutdown' })
})

t.test('files left by the file spool of earlier versions are moved into the queue once; unreadable ones stay', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const spool = join(dataDirectory, 'webhooks', 'pending')
  await mkdir(spool, { recursive: true })
  const valid = { id: '11111111-1111-4111-8111-111111111111', event: 'otp.verified', url: receiver.url, body: '{"event":"otp.verified"}', attempts: 1, createdAt: 1, nextAttemptAt: 1 }
  await writeFile(join(spool, `${valid.id}.json`), JSON.stringify(valid))
  await writeFile(join(spool, 'truncated.json'), JSON.stringify(valid).slice(0, 40))
  await writeFile(join(spool, 'wrong-shape.json'), JSON.stringify({ ...valid, attempts: 'two' }))
  await writeFile(join(spool, 'null.json'), 'null')
  await writeFile(join(spool, `${valid.id}.json.0a1b2c3d4e5f.tmp`), JSON.stringify({ ...valid, id: '00000000-0000-4000-8000-000000000000' }))

  const { queue } = await queueFor(t, dataDirectory)
  const logger = captureLogger()
  t.equal(await importSpooledDeliveries(dataDirectory, queue, logger), 1)
  t.equal(await importSpooledDeliveries(dataDirectory, queue, logger), 0, 'a second start imports nothing again')
  t.same((await readdir(spool)).sort(), ['null.json', 'truncated.json', 'wrong-shape.json'], 'the unreadable ones stay for the operator')
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  await dispatcher.start()
  const [delivered] = await collector.waitFor('delivered')
  t.same(delivered, { event: 'otp.verified', url: receiver.url, deliveryId: valid.id, outcome: 'delivered', statusCode: 200, attempts: 2 })
  t.equal(receiver.requests.length, 1)
  t.equal(await importSpooledDeliveries(join(dataDirectory, 'none'), queue, logger), 0, 'no spool folder: nothing to do')
})

t.test('close waits for an in-flight request and records its result', async (t) => {
  const dataDirectory = t.testdir()
  let answerNow: () => void = () => {}
  const receiver = await startReceiver(t, (request, response, index) => {
    answerNow = () => answerWith(200)(request, response, index)
  })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await receiver.waitForRequests(1)

  let closed = false
  const closing = dispatcher.close().then(() => { closed = true })
  for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve))
  t.equal(closed, false, 'close is still waiting for the answer')
  answerNow()
  await closing
  t.match(collector.results, [{ outcome: 'delivered', statusCode: 200 }])
  t.equal(await pendingCount(t, dataDirectory), 0, 'delivered, so out of the queue')

  const next = await createDispatcher(t, { urls: [receiver.url], dataDirectory })
  await next.start()
  await next.close()
  t.equal(receiver.requests.length, 1, 'not sent again by the next dispatcher')
})

t.test('close is bounded by requestTimeoutMs and keeps an unanswered delivery', async (t) => {
  const dataDirectory = t.testdir()
  const held: ServerResponse[] = []
  t.teardown(() => { for (const response of held) response.destroy() })
  const receiver = await startReceiver(t, (_request, response) => { held.push(response) })
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, requestTimeoutMs: 150 })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await receiver.waitForRequests(1)
  const closeStartedAt = Date.now()
  await dispatcher.close()
  t.ok(Date.now() - closeStartedAt < 1000, 'close did not wait for the receiver')
  t.match(collector.results, [{ outcome: 'retry', error: 'no answer within 150 ms', attempts: 1 }])
  t.match(await dispatcher.stats(), { pending: 1, retrying: 1 })
})

t.test('publish never throws and a throwing onResult does not stop delivery', async (t) => {
  const receiver = await startReceiver(t, answerWith(200))
  const logger = captureLogger()
  const collector = collectResults()
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory: t.testdir(),
    logger,
    onResult: (result) => {
      collector.onResult(result)
      throw new Error('metrics broke')
    }
  })
  await dispatcher.start()
  const circular: Record<string, unknown> = {}
  circular.self = circular
  t.doesNotThrow(() => dispatcher.publish('otp.sent', 's1', circular))
  t.ok(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'could not publish webhook event'))
  dispatcher.publish('otp.sent', 's1', { fine: true })
  await collector.waitFor('delivered')
  await dispatcher.close()
  t.equal(receiver.requests.length, 1)
  t.equal((await dispatcher.stats()).delivered, 1)
  t.ok(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'webhook onResult callback threw'))
})

t.test('a queue that cannot be written: the publish is logged, nothing is sent; a failure log that cannot be written is logged', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(400))
  const { queue } = await queueFor(t, dataDirectory)
  const logger = captureLogger()
  const collector = collectResults()
  let refuse = true
  const refusing: WebhookDeliveryQueue = {
    ...queue,
    enqueue: async (delivery) => {
      if (refuse) throw new Error('state store unavailable: connection refused')
      await queue.enqueue(delivery)
    }
  }
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    logger,
    onResult: collector.onResult,
    queue: refusing
  })
  await dispatcher.start()
  // A plain file where the failed deliveries' folder should be: every write there fails.
  await mkdir(join(dataDirectory, 'webhooks'), { recursive: true })
  await writeFile(failedDirectory(dataDirectory), '')
  dispatcher.publish('otp.sent', 's1', { lost: true })
  await waitUntil(async () => logger.entries.some((entry) => entry.level === 'error'))
  t.match(logger.entries.filter((entry) => entry.level === 'error'), [{ object: { err: { message: /connection refused/ } }, message: 'webhook dispatcher background work failed' }])
  refuse = false
  dispatcher.publish('otp.sent', 's1', { kept: true })
  await collector.waitFor('failed')
  await dispatcher.close()
  t.equal(receiver.requests.length, 1)
  t.same(JSON.parse(receiver.requests[0].body).data, { kept: true })
  t.ok(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'could not keep failed webhook delivery on disk'))
})

t.test('a result that cannot be written leaves the claim to run out, and the delivery is attempted again', async (t) => {
  const dataDirectory = t.testdir()
  const { queue } = await queueFor(t, dataDirectory)
  const logger = captureLogger()
  const collector = collectResults()
  let retryWrites = 0
  const failingRetry: WebhookDeliveryQueue = {
    ...queue,
    retry: async () => {
      retryWrites += 1
      throw new Error('state store unavailable: timeout')
    }
  }
  const receiver = await startReceiver(t, (_request, response, index) => {
    response.writeHead(index === 0 ? 500 : 200)
    response.end()
  })
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    logger,
    onResult: collector.onResult,
    queue: failingRetry,
    claimLeaseMs: 200,
    pollIntervalMs: 50
  })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  t.equal(retryWrites, 1)
  t.equal(receiver.requests.length, 2)
  t.ok(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'could not write the webhook delivery result to the queue'))
})

t.test('a late event that cannot be written after close is logged, not thrown', async (t) => {
  const dataDirectory = t.testdir()
  const logger = captureLogger()
  const dispatcher = await createDispatcher(t, { urls: ['http://127.0.0.1:1/'], dataDirectory, logger })
  await dispatcher.start()
  await dispatcher.close()
  await (await queueFor(t, dataDirectory)).store.close()
  t.doesNotThrow(() => dispatcher.publish('session.disconnected', 's1', {}))
  await dispatcher.close()
  t.match(logger.entries.filter((entry) => entry.level === 'error'), [{ object: { err: { message: 'state store is closed' } }, message: 'webhook dispatcher background work failed' }])
})

t.test('a queue that cannot be claimed from (Redis down) is tried again, and the delivery goes out once it answers', async (t) => {
  const dataDirectory = t.testdir()
  const { queue } = await queueFor(t, dataDirectory)
  const receiver = await startReceiver(t, answerWith(200))
  const logger = captureLogger()
  const collector = collectResults()
  let down = true
  const flaky: WebhookDeliveryQueue = {
    ...queue,
    claim: async (limit, leaseMs) => {
      if (down) throw new Error('state store unavailable: connection refused')
      return await queue.claim(limit, leaseMs)
    }
  }
  const dispatcher = await createDispatcher(t, {
    urls: [receiver.url],
    dataDirectory,
    logger,
    onResult: collector.onResult,
    queue: flaky,
    pollIntervalMs: 20
  })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await waitUntil(async () => logger.entries.some((entry) => entry.message === 'could not claim webhook deliveries; trying again shortly'))
  down = false
  await collector.waitFor('delivered')
  t.equal(receiver.requests.length, 1)
})
