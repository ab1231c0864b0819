import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { pino } from 'pino'
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
  const log = (level: string) => (object: object, message?: string) => { entries.push({ level, object: object as Record<string, unknown>, message }) }
  return { entries, info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') }
}

const secret = 'test-secret'

function createDispatcher (t: Test, options: Partial<WebhookDispatcherOptions> & Pick<WebhookDispatcherOptions, 'urls' | 'dataDirectory'>): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher({
    secret,
    version: '1.2.3',
    baseDelayMs: 5,
    maxDelayMs: 50,
    requestTimeoutMs: 2000,
    logger: captureLogger(),
    ...options
  })
  t.teardown(() => dispatcher.close())
  return dispatcher
}

function pendingDirectory (dataDirectory: string): string {
  return join(dataDirectory, 'webhooks', 'pending')
}

function failedDirectory (dataDirectory: string): string {
  return join(dataDirectory, 'webhooks', 'failed')
}

async function pendingFiles (dataDirectory: string): Promise<string[]> {
  return (await readdir(pendingDirectory(dataDirectory))).sort()
}

// A port nothing listens on: bound once, then released.
async function closedPort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

// For background work with no event to wait on: checks again on each turn of the event loop.
async function waitUntil (condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve))
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('webhookEvents and event name validation', async (t) => {
  t.same([...webhookEvents], [
    'session.qr', 'session.connected', 'session.disconnected', 'session.logged_out', 'session.replaced',
    'message.received', 'message.status', 'otp.sent', 'otp.verified', 'otp.failed'
  ])
  t.equal(isWebhookEvent('otp.sent'), true)
  t.equal(isWebhookEvent('otp.send'), false)
  t.doesNotThrow(() => assertWebhookEvents(['session.qr', 'otp.failed']))
  t.throws(() => assertWebhookEvents(['otp.sent', 'otp.send', 'session.gone']), /Unknown webhook event otp\.send, session\.gone; known events: session\.qr/)
})

t.test('invalid options throw at creation', async (t) => {
  const dataDirectory = t.testdir()
  const base = { urls: ['http://127.0.0.1:1/'], dataDirectory, version: '1', logger: captureLogger() }
  t.throws(() => createWebhookDispatcher({ ...base, events: ['otp.sent', 'otp.nope'] }), /Unknown webhook event otp\.nope/)
  t.throws(() => createWebhookDispatcher({ ...base, urls: ['ftp://example.com/'] }), /ftp:\/\/example\.com\/ is not an http or https URL/)
  t.throws(() => createWebhookDispatcher({ ...base, urls: ['not a url'] }), /not a url is not an http or https URL/)
  t.throws(() => createWebhookDispatcher({ ...base, maxAttempts: 0 }), /maxAttempts must be a positive integer/)
  t.throws(() => createWebhookDispatcher({ ...base, concurrency: 1.5 }), /concurrency must be a positive integer/)
})

t.test('a delivery is signed, durable before it is sent, and verifies with the receiver\'s code', async (t) => {
  const dataDirectory = t.testdir()
  let fileOnDiskWhenReceived: unknown
  const receiver = await startReceiver(t, async (request, response) => {
    fileOnDiskWhenReceived = JSON.parse(await readFile(join(pendingDirectory(dataDirectory), `${request.deliveryId}.json`), 'utf8'))
    response.writeHead(204)
    response.end()
  })
  const collector = collectResults()
  const publishedAt = Date.parse('2025-03-04T05:06:07.089Z')
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, clock: () => publishedAt })
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

  t.match(fileOnDiskWhenReceived, { id: request.deliveryId, event: 'otp.sent', url: receiver.url, body: request.body, attempts: 0 }, 'the delivery was on disk before the request')
  t.same(delivered, { event: 'otp.sent', url: receiver.url, deliveryId: request.deliveryId, outcome: 'delivered', statusCode: 204, attempts: 1 })
  t.same(await pendingFiles(dataDirectory), [], 'delivered file removed')
  t.same(dispatcher.stats(), {
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), secret: undefined, onResult: collector.onResult })
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
  const dispatcher = createDispatcher(t, { urls: [first.url, second.url], dataDirectory: t.testdir(), onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('session.qr', 's1', { qr: 'x' })
  await collector.waitFor('delivered', 2)
  t.equal(first.requests.length, 1)
  t.equal(second.requests.length, 1)
  t.not(first.requests[0].deliveryId, second.requests[0].deliveryId)
  t.equal(first.requests[0].body, second.requests[0].body)
  t.equal(dispatcher.stats().delivered, 2)
})

t.test('with no URLs publish does nothing', async (t) => {
  const dataDirectory = t.testdir()
  const dispatcher = createDispatcher(t, { urls: [], dataDirectory })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await dispatcher.close()
  t.same(await pendingFiles(dataDirectory), [])
  t.equal(dispatcher.stats().pending, 0)
})

t.test('a 500 then a 200 delivers exactly once with the same delivery id', async (t) => {
  const dataDirectory = t.testdir()
  let statsDuringRetry: unknown
  let fileDuringRetry: unknown
  const receiver = await startReceiver(t, async (request, response, index) => {
    if (index === 1) {
      statsDuringRetry = dispatcher.stats()
      fileDuringRetry = JSON.parse(await readFile(join(pendingDirectory(dataDirectory), `${request.deliveryId}.json`), 'utf8'))
    }
    response.writeHead(index === 0 ? 500 : 200)
    response.end()
  })
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
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
  t.match(fileDuringRetry, { attempts: 1 }, 'the attempt count is kept on disk')
  t.match(dispatcher.stats(), { delivered: 1, failed: 0, retrying: 0, pending: 0, byEvent: { 'otp.verified': { delivered: 1, failed: 0 } } })
  t.same(await pendingFiles(dataDirectory), [])
})

t.test('a 400 is not retried and the failure is kept for inspection', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(400))
  const collector = collectResults()
  const clock = () => Date.parse('2025-06-01T00:00:00.000Z')
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, clock })
  await dispatcher.start()
  dispatcher.publish('otp.failed', 's1', { reason: 'x' })

  const [failed] = await collector.waitFor('failed')
  await dispatcher.close()
  t.equal(receiver.requests.length, 1)
  t.same(failed, { event: 'otp.failed', url: receiver.url, deliveryId: receiver.requests[0].deliveryId, outcome: 'failed', statusCode: 400, attempts: 1, error: 'HTTP 400' })
  t.same(dispatcher.stats(), {
    delivered: 0,
    failed: 1,
    retrying: 0,
    pending: 0,
    lastError: { message: 'HTTP 400', at: '2025-06-01T00:00:00.000Z', event: 'otp.failed', url: receiver.url },
    lastDeliveredAt: null,
    byEvent: { 'otp.failed': { delivered: 0, failed: 1 } }
  })
  t.same(await pendingFiles(dataDirectory), [])
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult })
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, keepFailedDeliveries: 2, concurrency: 1, clock: () => now++ })
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, keepFailedDeliveries: 0 })
  await dispatcher.start()
  dispatcher.publish('message.status', 's1', {})
  await collector.waitFor('failed')
  await dispatcher.close()
  t.same(await readdir(failedDirectory(dataDirectory)), [])
})

t.test('a 429 with Retry-After in seconds is honoured', async (t) => {
  const receiver = await startReceiver(t, (_request, response, index) => {
    response.writeHead(index === 0 ? 429 : 200, index === 0 ? { 'retry-after': '1' } : {})
    response.end()
  })
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult, baseDelayMs: 1, maxDelayMs: 5000 })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  const gap = receiver.requests[1].receivedAt - receiver.requests[0].receivedAt
  t.ok(gap >= 990, `waited ${gap} ms for Retry-After: 1`)
  t.equal(collector.results[0].statusCode, 429)
})

t.test('a 503 with Retry-After as a date is honoured but capped at maxDelayMs', async (t) => {
  const dataDirectory = t.testdir()
  let scheduledDelay = 0
  const receiver = await startReceiver(t, async (request, response, index) => {
    if (index === 0) {
      response.writeHead(503, { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() })
    } else {
      const stored = JSON.parse(await readFile(join(pendingDirectory(dataDirectory), `${request.deliveryId}.json`), 'utf8'))
      scheduledDelay = stored.nextAttemptAt - receiver.requests[0].receivedAt
      response.writeHead(200)
    }
    response.end()
  })
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, baseDelayMs: 1, maxDelayMs: 300 })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  const gap = receiver.requests[1].receivedAt - receiver.requests[0].receivedAt
  t.ok(gap >= 290, `waited ${gap} ms, the cap`)
  t.ok(scheduledDelay >= 300 && scheduledDelay < 400, `scheduled ${scheduledDelay} ms after the first request`)
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult, baseDelayMs: 5, maxDelayMs: 60_000 })
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
  const scheduledDelays: number[] = []
  const receiver = await startReceiver(t, async (request, response, index) => {
    if (index > 0) {
      const stored = JSON.parse(await readFile(join(pendingDirectory(dataDirectory), `${request.deliveryId}.json`), 'utf8'))
      scheduledDelays.push(stored.nextAttemptAt - start)
    }
    // Without Retry-After, 429 and 503 back off like any other retryable answer.
    response.writeHead([502, 429, 503, 500][index] ?? 200)
    response.end()
  })
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, clock, random: () => 0.5, baseDelayMs: 20, maxDelayMs: 60 })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  // Half (the jitter) of 20, 40, then 80 and 160 capped at 60.
  t.same(scheduledDelays, [10, 20, 30, 30])
})

t.test('a network error (closed port) is retried until maxAttempts, then failed', async (t) => {
  const dataDirectory = t.testdir()
  const url = `http://127.0.0.1:${await closedPort()}/hooks`
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [url], dataDirectory, onResult: collector.onResult, maxAttempts: 3 })
  await dispatcher.start()
  dispatcher.publish('session.disconnected', 's1', { reason: 'network' })
  await collector.waitFor('failed')
  t.same(collector.results.map(({ outcome, attempts, statusCode }) => ({ outcome, attempts, statusCode })), [
    { outcome: 'retry', attempts: 1, statusCode: undefined },
    { outcome: 'retry', attempts: 2, statusCode: undefined },
    { outcome: 'failed', attempts: 3, statusCode: undefined }
  ])
  t.match(collector.results[2].error, /fetch failed: .*ECONNREFUSED/)
  t.match(dispatcher.stats(), { failed: 1, pending: 0, lastError: { message: /ECONNREFUSED/, event: 'session.disconnected', url } })
  await dispatcher.close()
  t.same(await pendingFiles(dataDirectory), [])
})

t.test('maxAttempts of 5xx answers leads to failed', async (t) => {
  const receiver = await startReceiver(t, answerWith(500))
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult, maxAttempts: 4 })
  await dispatcher.start()
  dispatcher.publish('message.received', 's1', { from: '62811', text: 'hi' })
  const [failed] = await collector.waitFor('failed')
  await dispatcher.close()
  t.equal(receiver.requests.length, 4)
  t.equal(new Set(receiver.requests.map((request) => request.deliveryId)).size, 1)
  t.match(failed, { outcome: 'failed', attempts: 4, statusCode: 500 })
  t.match(dispatcher.stats(), { failed: 1, delivered: 0, byEvent: { 'message.received': { failed: 1, delivered: 0 } } })
})

t.test('a connection dropped by the receiver is retried', async (t) => {
  const receiver = await startReceiver(t, (request, response, index) => {
    if (index === 0) response.socket?.destroy()
    else answerWith(200)(request, response, index)
  })
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult })
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult, requestTimeoutMs: 100 })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  t.same(collector.results[0], { event: 'otp.sent', url: receiver.url, deliveryId: receiver.requests[0].deliveryId, outcome: 'retry', attempts: 1, error: 'no answer within 100 ms' })
})

t.test('the events filter drops other events', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, events: ['otp.sent', 'session.connected'] })
  await dispatcher.start()
  dispatcher.publish('session.qr', 's1', {})
  dispatcher.publish('otp.sent', 's1', {})
  dispatcher.publish('message.received', 's1', {})
  dispatcher.publish('session.connected', 's1', {})
  await dispatcher.close()
  t.same(receiver.requests.map((request) => request.event).sort(), ['otp.sent', 'session.connected'])
  t.same(Object.keys(dispatcher.stats().byEvent).sort(), ['otp.sent', 'session.connected'])
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory: t.testdir(), onResult: collector.onResult, concurrency: 2 })
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
  const first = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: firstCollector.onResult, maxDelayMs: 60_000 })
  await first.start()
  first.publish('session.connected', 's1', {})
  first.publish('otp.sent', 's1', {})
  first.publish('message.received', 's1', {})
  first.publish('session.disconnected', 's1', {})
  await firstCollector.waitFor('retry', 3)
  await firstCollector.waitFor('delivered', 1)
  await first.close()
  t.match(first.stats(), { delivered: 1, retrying: 3, pending: 3 })
  const waitingIds = firstCollector.results.filter((result) => result.outcome === 'retry').map((result) => result.deliveryId).sort()
  t.same(await pendingFiles(dataDirectory), waitingIds.map((id) => `${id}.json`), 'the three waiting deliveries are on disk')
  const deliveredBeforeShutdown = firstCollector.results.find((result) => result.outcome === 'delivered')?.deliveryId
  t.equal(receiver.requests.length, 4)

  receiverUp = true
  const secondCollector = collectResults()
  // 61 seconds later, as if the service had been down that long: the Retry-After has passed.
  const second = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: secondCollector.onResult, maxDelayMs: 60_000, clock: () => Date.now() + 61_000 })
  t.equal(second.stats().pending, 0, 'nothing is loaded before start')
  await second.start()
  const delivered = await secondCollector.waitFor('delivered', 3)
  await second.close()

  t.same(delivered.map((result) => result.deliveryId).sort(), waitingIds, 'the same deliveries, by id')
  t.same(delivered.map((result) => result.attempts), [2, 2, 2], 'the attempt count carried over')
  t.equal(receiver.requests.length, 7, 'four before, three after')
  t.equal(receiver.requests.filter((request) => request.deliveryId === deliveredBeforeShutdown).length, 1, 'the delivered one was not sent again')
  t.same((await pendingFiles(dataDirectory)), [])
  t.same(second.stats().byEvent, {
    'session.connected': { delivered: 1, failed: 0 },
    'message.received': { delivered: 1, failed: 0 },
    'session.disconnected': { delivered: 1, failed: 0 }
  })
})

t.test('a delivery waiting for its retry time is not sent early after a restart', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(503, { 'retry-after': '60' }))
  const collector = collectResults()
  const first = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, maxDelayMs: 60_000 })
  await first.start()
  first.publish('otp.sent', 's1', {})
  await collector.waitFor('retry')
  await first.close()

  const second = createDispatcher(t, { urls: [receiver.url], dataDirectory, maxDelayMs: 60_000 })
  await second.start()
  t.match(second.stats(), { pending: 1, retrying: 1 })
  await second.close()
  t.equal(receiver.requests.length, 1)
  t.equal((await pendingFiles(dataDirectory)).length, 1)
})

t.test('pending deliveries to a URL removed from the configuration are not sent after a restart', async (t) => {
  const dataDirectory = t.testdir()
  const kept = await startReceiver(t, answerWith(503, { 'retry-after': '60' }))
  const removed = await startReceiver(t, answerWith(503, { 'retry-after': '60' }))
  const collector = collectResults()
  const first = createDispatcher(t, { urls: [kept.url, removed.url], dataDirectory, onResult: collector.onResult, maxDelayMs: 60_000 })
  await first.start()
  first.publish('otp.sent', 's1', {})
  await collector.waitFor('retry', 2)
  await first.close()
  t.equal((await pendingFiles(dataDirectory)).length, 2)

  // Restarted with only one of the URLs, 61 seconds later: both retries would be due.
  const second = createDispatcher(t, { urls: [kept.url], dataDirectory, maxDelayMs: 60_000, clock: () => Date.now() + 61_000 })
  await second.start()
  t.match(second.stats(), { pending: 1 }, 'only the delivery to the configured URL is pending')
  await kept.waitForRequests(2)
  await second.close()
  t.equal(removed.requests.length, 1, 'the removed URL got nothing after the restart')
  const failed = await readdir(join(dataDirectory, 'webhooks', 'failed'))
  t.equal(failed.length, 1, 'the dropped delivery is kept with the failed ones')
  t.match(JSON.parse(await readFile(join(dataDirectory, 'webhooks', 'failed', failed[0]), 'utf8')), { url: removed.url, event: 'otp.sent', error: 'webhook URL is no longer configured' })
})

t.test('events published before start are delivered once after start', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  dispatcher.publish('session.qr', 's1', { qr: 'a' })
  dispatcher.publish('session.qr', 's1', { qr: 'b' })
  t.equal(dispatcher.stats().pending, 2)
  // Once both are on disk, start() finds them there as well as in memory.
  await waitUntil(async () => existsSync(pendingDirectory(dataDirectory)) && (await pendingFiles(dataDirectory)).filter((name) => name.endsWith('.json')).length === 2)
  await dispatcher.start()
  await collector.waitFor('delivered', 2)
  await dispatcher.close()
  t.equal(receiver.requests.length, 2)
  t.same(receiver.requests.map((request) => JSON.parse(request.body).data.qr).sort(), ['a', 'b'])
})

t.test('events published after close stay on disk for the next start', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const logger = captureLogger()
  const first = createDispatcher(t, { urls: [receiver.url], dataDirectory, logger })
  await first.start()
  await first.close()
  first.publish('session.disconnected', 's1', { reason: 'shutdown' })
  await first.close()
  t.equal((await pendingFiles(dataDirectory)).length, 1)
  t.equal(receiver.requests.length, 0)
  t.ok(logger.entries.some((entry) => entry.level === 'warn' && /kept on disk for the next start/.test(entry.message ?? '')))
  await t.rejects(first.start(), /webhook dispatcher is closed/)

  const collector = collectResults()
  const second = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
  await second.start()
  await collector.waitFor('delivered')
  t.same(JSON.parse(receiver.requests[0].body).data, { reason: 'shutdown' })
})

t.test('close during start leaves the deliveries on disk', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const first = createDispatcher(t, { urls: [receiver.url], dataDirectory })
  first.publish('otp.sent', 's1', {})
  await first.close()

  const second = createDispatcher(t, { urls: [receiver.url], dataDirectory })
  const started = second.start()
  await second.close()
  await started
  t.equal(receiver.requests.length, 0)
  t.equal((await pendingFiles(dataDirectory)).length, 1)
})

t.test('corrupt pending files and temp-file leftovers are skipped', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const writer = createDispatcher(t, { urls: [receiver.url], dataDirectory })
  writer.publish('otp.verified', 's1', { ok: true })
  await writer.close()
  const [validName] = await pendingFiles(dataDirectory)
  const valid = await readFile(join(pendingDirectory(dataDirectory), validName), 'utf8')
  await writeFile(join(pendingDirectory(dataDirectory), 'truncated.json'), valid.slice(0, 40))
  await writeFile(join(pendingDirectory(dataDirectory), 'wrong-shape.json'), JSON.stringify({ ...JSON.parse(valid), attempts: 'two' }))
  await writeFile(join(pendingDirectory(dataDirectory), 'missing-url.json'), JSON.stringify({ ...JSON.parse(valid), url: undefined }))
  await writeFile(join(pendingDirectory(dataDirectory), 'null.json'), 'null')
  await writeFile(join(pendingDirectory(dataDirectory), `${validName}.0a1b2c3d4e5f.tmp`), valid.replace(JSON.parse(valid).id, '00000000-0000-4000-8000-000000000000'))

  const logger = captureLogger()
  const collector = collectResults()
  const reader = createDispatcher(t, { urls: [receiver.url], dataDirectory, logger, onResult: collector.onResult })
  await reader.start()
  await collector.waitFor('delivered')
  await reader.close()
  t.equal(receiver.requests.length, 1, 'only the valid delivery is sent')
  t.equal(receiver.requests[0].deliveryId, JSON.parse(valid).id)
  const skipped = logger.entries.filter((entry) => entry.level === 'warn' && entry.message === 'skipping unreadable webhook delivery file').map((entry) => String(entry.object.file))
  t.same(skipped.map((file) => file.split('/').pop()).sort(), ['missing-url.json', 'null.json', 'truncated.json', 'wrong-shape.json'])
  t.ok(logger.entries.some((entry) => entry.level === 'info' && entry.object.count === 1), 'one delivery loaded')
})

t.test('close waits for an in-flight request and records its result', async (t) => {
  const dataDirectory = t.testdir()
  let answerNow: () => void = () => {}
  const receiver = await startReceiver(t, (request, response, index) => {
    answerNow = () => answerWith(200)(request, response, index)
  })
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult })
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
  t.same(await pendingFiles(dataDirectory), [], 'delivered, so removed')

  const next = createDispatcher(t, { urls: [receiver.url], dataDirectory })
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
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, requestTimeoutMs: 150 })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await receiver.waitForRequests(1)
  const closeStartedAt = Date.now()
  await dispatcher.close()
  t.ok(Date.now() - closeStartedAt < 1000, 'close did not wait for the receiver')
  t.match(collector.results, [{ outcome: 'retry', error: 'no answer within 150 ms', attempts: 1 }])
  const [name] = await pendingFiles(dataDirectory)
  t.match(JSON.parse(await readFile(join(pendingDirectory(dataDirectory), name), 'utf8')), { attempts: 1 })
})

t.test('publish never throws and a throwing onResult does not stop delivery', async (t) => {
  const receiver = await startReceiver(t, answerWith(200))
  const logger = captureLogger()
  const collector = collectResults()
  const dispatcher = createDispatcher(t, {
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
  t.equal(dispatcher.stats().delivered, 1)
  t.ok(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'webhook onResult callback threw'))
})

t.test('when the disk fails, deliveries are still attempted and the errors logged', async (t) => {
  const dataDirectory = t.testdir()
  let failNext = true
  const receiver = await startReceiver(t, (_request, response) => {
    response.writeHead(failNext ? 500 : 200)
    failNext = false
    response.end()
  })
  const logger = captureLogger()
  const collector = collectResults()
  const dispatcher = createDispatcher(t, { urls: [receiver.url, receiver.url], dataDirectory, logger, onResult: collector.onResult, keepFailedDeliveries: 5, maxAttempts: 1 })
  await dispatcher.start()
  // Replace both folders with plain files so every write and removal in them fails.
  await rm(pendingDirectory(dataDirectory), { recursive: true })
  await rm(failedDirectory(dataDirectory), { recursive: true })
  await writeFile(pendingDirectory(dataDirectory), '')
  await writeFile(failedDirectory(dataDirectory), '')
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('failed')
  await collector.waitFor('delivered')
  await dispatcher.close()
  const errors = logger.entries.filter((entry) => entry.level === 'error').map((entry) => entry.message)
  t.ok(errors.includes('could not write webhook delivery to disk; it will be attempted but not survive a restart'))
  t.ok(errors.includes('could not keep failed webhook delivery on disk'))
  t.match(dispatcher.stats(), { delivered: 1, failed: 1, pending: 0 })
})

t.test('a retry that cannot be written to disk is still retried', async (t) => {
  const dataDirectory = t.testdir()
  const logger = captureLogger()
  const collector = collectResults()
  const receiver = await startReceiver(t, async (_request, response, index) => {
    if (index === 0) {
      await rm(pendingDirectory(dataDirectory), { recursive: true })
      await writeFile(pendingDirectory(dataDirectory), '')
    }
    response.writeHead(index === 0 ? 500 : 200)
    response.end()
  })
  const dispatcher = createDispatcher(t, { urls: [receiver.url], dataDirectory, logger, onResult: collector.onResult })
  await dispatcher.start()
  dispatcher.publish('otp.sent', 's1', {})
  await collector.waitFor('delivered')
  t.ok(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'could not update webhook delivery on disk'))
})

t.test('start fails when the data directory cannot be created', async (t) => {
  const dataDirectory = t.testdir({ 'a-file': '' })
  const dispatcher = createDispatcher(t, { urls: ['http://127.0.0.1:1/'], dataDirectory: join(dataDirectory, 'a-file') })
  await t.rejects(dispatcher.start(), { code: 'ENOTDIR' })
})

t.test('the pending directory is created on start, with a pino logger', async (t) => {
  const dataDirectory = join(t.testdir(), 'nested', 'data')
  const dispatcher = createDispatcher(t, { urls: ['http://127.0.0.1:1/'], dataDirectory, logger: pino({ level: 'silent' }) })
  await dispatcher.start()
  t.same(await pendingFiles(dataDirectory), [])
  t.same(await readdir(failedDirectory(dataDirectory)), [])
})

t.test('a late event that cannot be written after close is logged, not thrown', async (t) => {
  const dataDirectory = t.testdir()
  const logger = captureLogger()
  const dispatcher = createDispatcher(t, { urls: ['http://127.0.0.1:1/'], dataDirectory, logger })
  await dispatcher.start()
  await dispatcher.close()
  await rm(pendingDirectory(dataDirectory), { recursive: true })
  await writeFile(pendingDirectory(dataDirectory), '')
  dispatcher.publish('session.disconnected', 's1', {})
  await dispatcher.close()
  t.match(logger.entries.filter((entry) => entry.level === 'error'), [{ object: { err: { code: 'ENOTDIR' } }, message: 'webhook dispatcher background work failed' }])
})

t.test('a retry time far in the future, read from disk, waits no longer than maxDelayMs', async (t) => {
  const dataDirectory = t.testdir()
  const receiver = await startReceiver(t, answerWith(200))
  const writer = createDispatcher(t, { urls: [receiver.url], dataDirectory })
  writer.publish('otp.sent', 's1', {})
  await writer.close()
  const [name] = await pendingFiles(dataDirectory)
  const path = join(pendingDirectory(dataDirectory), name)
  const stored = JSON.parse(await readFile(path, 'utf8'))
  await writeFile(path, JSON.stringify({ ...stored, attempts: 1, nextAttemptAt: Date.now() + 365 * 24 * 3600 * 1000 }))

  const collector = collectResults()
  const reader = createDispatcher(t, { urls: [receiver.url], dataDirectory, onResult: collector.onResult, maxDelayMs: 50 })
  await reader.start()
  const [delivered] = await collector.waitFor('delivered')
  t.equal(delivered.attempts, 2)
})
