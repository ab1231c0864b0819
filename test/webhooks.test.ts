import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import t from 'tap'
import { authHeaders, build, temporaryDirectory } from './helper.js'
import { openTestStateStore } from './helpers/state-store.js'
import { startWebhookReceiver } from './helpers/webhook-receiver.js'
import { wireEvents } from '../plugins/event-wiring.js'
import { createWebhooks, degradedAfterFailedAttempts } from '../plugins/webhooks.js'
import type { OtpEventMap } from '../src/events.js'
import { createProducers, idleConsumers } from './helpers/event-producers.js'
import type { WebhookOutcome, WebhookResult } from '../src/webhook-dispatcher.js'
import { verifyWebhookSignature } from '../src/webhook-signature.js'

const secret = 'receiver-shared-secret'
const silentLogger = pino({ level: 'silent' })

async function nextWebhookResult (app: FastifyInstance, outcome: WebhookOutcome, timeoutMs = 10_000): Promise<WebhookResult> {
  const signal = AbortSignal.timeout(timeoutMs)
  while (true) {
    const [result] = await once(app.webhooks.events, 'result', { signal }) as [WebhookResult]
    if (result.outcome === outcome) return result
  }
}

async function webhookStats (app: FastifyInstance): Promise<Record<string, unknown>> {
  const response = await app.inject({ method: 'GET', url: '/api/webhook/stats', headers: authHeaders })
  if (response.statusCode !== 200) throw new Error(`stats answered ${response.statusCode}: ${response.body}`)
  return response.json().data
}

t.test('an event reaches the receiver signed, and the signature verifies there', async (t) => {
  const receiver = await startWebhookReceiver(t)
  const { app } = await build(t, { env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret } })
  app.webhooks.publish('session.connected', 'main', { user: { id: '6281234567001:1@s.whatsapp.net', name: null } })

  const request = await receiver.waitFor((candidate) => candidate.event === 'session.connected')
  t.ok(verifyWebhookSignature(secret, request.headers['x-webhook-timestamp'], request.rawBody, request.headers['x-webhook-signature']))
  t.notOk(verifyWebhookSignature('another-secret', request.headers['x-webhook-timestamp'], request.rawBody, request.headers['x-webhook-signature']))
  t.notOk(verifyWebhookSignature(secret, request.headers['x-webhook-timestamp'], request.rawBody.replace('main', 'evil'), request.headers['x-webhook-signature']))
  t.equal(request.headers['x-webhook-event'], 'session.connected')
  t.match(request.headers['x-webhook-delivery'], /^[0-9a-f-]{36}$/)
  t.equal(request.sessionId, 'main')
  t.same(request.data, { user: { id: '6281234567001:1@s.whatsapp.net', name: null } })
  t.match(JSON.parse(request.rawBody).timestamp, /^\d{4}-\d\d-\d\dT/)
})

t.test('a 500 then a 200 delivers once', async (t) => {
  const receiver = await startWebhookReceiver(t)
  receiver.answer = (_request, response, index) => response.writeHead(index === 0 ? 500 : 200).end()
  const { app } = await build(t, { env: { WEBHOOK_URL: receiver.url } })
  const delivered = nextWebhookResult(app, 'delivered')
  app.webhooks.publish('session.replaced', 'main', {})

  t.equal((await delivered).attempts, 2)
  t.match(await app.webhooks.stats(), { delivered: 1, failed: 0, pending: 0, retrying: 0, lastError: { message: 'HTTP 500', event: 'session.replaced' }, byEvent: { 'session.replaced': { delivered: 1, failed: 0 } } })
  await app.close()
  t.equal(receiver.requests.length, 2)
  t.equal(receiver.requests[0].headers['x-webhook-delivery'], receiver.requests[1].headers['x-webhook-delivery'], 'the retry is the same delivery')
})

t.test('a 400 is not retried; the stats route shows it', async (t) => {
  const receiver = await startWebhookReceiver(t)
  receiver.answer = (_request, response) => response.writeHead(400).end()
  const { app } = await build(t, { env: { WEBHOOK_URL: `${receiver.url},${receiver.url}?second`, WEBHOOK_EVENTS: 'session.logged_out' } })
  // Both URLs fail at about the same moment: counted by one listener, so neither is missed.
  let failures = 0
  const bothFailed = new Promise<void>((resolve) => app.webhooks.events.on('result', (result) => {
    if (result.outcome === 'failed' && ++failures === 2) resolve()
  }))
  app.webhooks.publish('session.qr', 'main', { qr: 'filtered out by WEBHOOK_EVENTS' })
  app.webhooks.publish('session.logged_out', 'main', {})
  await bothFailed

  const stats = await webhookStats(app)
  t.match(stats, { configured: true, urlCount: 2, delivered: 0, failed: 2, pending: 0, retrying: 0, lastError: { message: 'HTTP 400', event: 'session.logged_out' }, lastDeliveredAt: null })
  t.same(stats.byEvent, { 'session.logged_out': { delivered: 0, failed: 2 } })
  await app.close()
  t.equal(receiver.requests.length, 2, 'one request per URL, none retried')
  t.same(receiver.requests.map((request) => request.event), ['session.logged_out', 'session.logged_out'])
})

t.test('deliveries pending at shutdown are delivered by the next start on the same DATA_DIR', async (t) => {
  const receiver = await startWebhookReceiver(t)
  receiver.answer = (_request, response) => response.writeHead(503).end()
  const directory = await temporaryDirectory(t)
  const env = { WEBHOOK_URL: receiver.url }
  const first = await build(t, { directory, env })
  const retrying = nextWebhookResult(first.app, 'retry')
  first.app.webhooks.publish('session.disconnected', 'main', { reason: 'connection-lost' })
  await retrying
  t.match(await first.app.webhooks.stats(), { pending: 1, retrying: 1 })
  await first.app.close()

  receiver.answer = (_request, response) => response.writeHead(204).end()
  let delivered: Promise<WebhookResult> | undefined
  const second = await build(t, { directory, env, beforeReady: (app) => { delivered = nextWebhookResult(app, 'delivered') } })
  t.equal((await delivered)?.attempts, 2)
  t.match(await second.app.webhooks.stats(), { delivered: 1, pending: 0 })
  await second.app.close()
  t.equal(receiver.requests.length, 2)
  t.equal(receiver.requests[0].headers['x-webhook-delivery'], receiver.requests[1].headers['x-webhook-delivery'])
})

t.test('without WEBHOOK_URL nothing is sent and the stats say so', async (t) => {
  const { app } = await build(t)
  app.webhooks.publish('session.connected', 'main', {})
  t.match(await webhookStats(app), { configured: false, urlCount: 0, delivered: 0, failed: 0, pending: 0 })
  const unauthorized = await app.inject({ method: 'GET', url: '/api/webhook/stats' })
  t.equal(unauthorized.statusCode, 401)
  const health = (await app.inject({ method: 'GET', url: '/api/health' })).json()
  t.match(health.data.checks.webhooks, { status: 'ok', configured: false, pending: 0 })
})

t.test(`the health part is degraded after ${degradedAfterFailedAttempts} failed attempts in a row, ok again after a success`, async (t) => {
  const receiver = await startWebhookReceiver(t)
  receiver.answer = (_request, response, index) => response.writeHead(index < degradedAfterFailedAttempts ? 404 : 204).end()
  const dataDirectory = await temporaryDirectory(t)
  const webhooks = createWebhooks({ urls: [receiver.url], queue: (await openTestStateStore(t, { directory: dataDirectory })).webhookDeliveries, dataDirectory, version: 'test', logger: silentLogger })
  t.teardown(() => webhooks.close())
  await webhooks.start()
  const results: WebhookResult[] = []
  const outcomes = new Promise<void>((resolve) => webhooks.events.on('result', (result) => {
    results.push(result)
    if (results.length === degradedAfterFailedAttempts) resolve()
  }))
  for (let index = 0; index < degradedAfterFailedAttempts; index++) webhooks.publish('otp.failed', null, { attempt: index })
  await outcomes
  t.match(await webhooks.health(), { status: 'degraded', configured: true, failedAttemptsInARow: degradedAfterFailedAttempts, lastError: { message: 'HTTP 404' } })

  const delivered = once(webhooks.events, 'result')
  webhooks.publish('otp.verified', null, {})
  t.equal(((await delivered)[0] as WebhookResult).outcome, 'delivered')
  t.match(await webhooks.health(), { status: 'ok', failedAttemptsInARow: 0 })
})

t.test('sender and OTP events become message.status and otp.* webhooks, never with the code', async (t) => {
  const receiver = await startWebhookReceiver(t)
  const dataDirectory = await temporaryDirectory(t)
  const webhooks = createWebhooks({ urls: [receiver.url], secret, queue: (await openTestStateStore(t, { directory: dataDirectory })).webhookDeliveries, dataDirectory, version: 'test', logger: silentLogger })
  t.teardown(() => webhooks.close())
  await webhooks.start()
  const { messageSender: sender, otp, ...producers } = createProducers()
  const wiring = wireEvents({ messageSender: sender, otp, ...producers }, idleConsumers({ webhooks }), silentLogger)
  t.teardown(wiring.unwire)
  const at = new Date('2025-03-04T05:06:07.089Z')
  const expiresAt = new Date('2025-03-04T05:11:07.089Z')

  // A producer that one day puts the code on its event must still not leak it.
  otp.emit('sent', { sessionId: 'main', to: '628123456789', messageId: 'OTP-1', expiresAt, at, code: '123456' } as OtpEventMap['sent'][0])
  producers.verifications.emit('approved', { to: '628123456789', verification: null, method: 'outbound', at })
  otp.emit('failed', { to: '628123456780', reason: 'invalid', attemptsLeft: 4, at })
  sender.emit('failed', { sessionId: 'main', to: '628123456781', type: 'text', errorCode: 'SESSION_NOT_CONNECTED', message: 'Session tidak terhubung', at })

  const sent = await receiver.waitFor((request) => request.event === 'otp.sent')
  t.same(sent.data, { to: '628123456789', messageId: 'OTP-1', expiresAt: expiresAt.toISOString(), at: at.toISOString() })
  t.notOk('code' in sent.data)
  t.notMatch(sent.rawBody, /"123456"/)
  const verified = await receiver.waitFor((request) => request.event === 'otp.verified')
  t.equal(verified.sessionId, null, 'a code with no verification record names no session')
  t.same(verified.data, { to: '628123456789', method: 'outbound', verificationId: null, at: at.toISOString() })
  t.same((await receiver.waitFor((request) => request.event === 'otp.failed')).data, { to: '628123456780', reason: 'invalid', attemptsLeft: 4, at: at.toISOString() })
  const failedSend = await receiver.waitFor((request) => request.event === 'message.status')
  t.equal(failedSend.sessionId, 'main')
  t.same(failedSend.data, { messageId: null, to: '628123456781', type: 'text', status: 'failed', error: 'SESSION_NOT_CONNECTED', errorMessage: 'Session tidak terhubung', at: at.toISOString() })
})
