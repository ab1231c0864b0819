import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { authHeaders, build } from './helper.js'
import { parsePrometheusText, sampleValue, type Sample } from './helpers/prometheus-text.js'

async function scrape (app: FastifyInstance): Promise<Sample[]> {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers: authHeaders })
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`)
  return parsePrometheusText(response.body)
}

t.test('the prometheus text parses and carries our metrics and the process defaults', async (t) => {
  const { app } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/metrics', headers: authHeaders })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const samples = parsePrometheusText(response.body)
  const names = new Set(samples.map((sample) => sample.name))
  for (const name of ['otp_sent_total', 'process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes']) t.ok(names.has(name), name)
  t.equal(sampleValue(samples, 'sessions', { state: 'connected' }), 0)
  t.equal(sampleValue(samples, 'sessions', { state: 'qr' }), 0)

  const unauthorized = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(unauthorized.statusCode, 401)
})

t.test('the parser is strict', async (t) => {
  t.throws(() => parsePrometheusText('undeclared 1\n'), /undeclared metric/)
  t.throws(() => parsePrometheusText('# TYPE a counter\na{b="c" 1\n'), /not a sample line/)
  t.throws(() => parsePrometheusText('# TYPE a counter\na{b=c} 1\n'), /bad labels/)
  t.throws(() => parsePrometheusText('# TYPE a counter\na one\n'), /bad sample value/)
  t.throws(() => parsePrometheusText('# TYPE a countr\n'), /unknown metric type/)
  t.same(parsePrometheusText('# TYPE a histogram\na_bucket{le="+Inf",x="q\\"d"} 2\na_sum NaN\n'), [
    { name: 'a_bucket', labels: { le: '+Inf', x: 'q"d' }, value: 2 },
    { name: 'a_sum', labels: {}, value: NaN }
  ])
})

t.test('request durations are labelled by route pattern, not by URL', async (t) => {
  const { app } = await build(t)
  for (const sessionId of ['one', 'two']) await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/status`, headers: authHeaders })
  await app.inject({ method: 'GET', url: '/no/such/route', headers: authHeaders })
  const samples = await scrape(app)
  t.equal(sampleValue(samples, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/sessions/:sessionId/status', status_code: '404' }), 2)
  t.equal(sampleValue(samples, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' }), 1)
  t.notOk(samples.some((sample) => sample.labels.route === '/api/sessions/one/status'))
})

t.test('sender and OTP events move their counters and the health counters', async (t) => {
  const { app } = await build(t)
  const sender = app.messageSender.events
  const otp = app.otp.events
  const at = new Date()
  sender.emit('sent', { sessionId: 'main', messageId: 'A', to: '628123456789', jid: '628123456789@s.whatsapp.net', type: 'otp', at })
  sender.emit('sent', { sessionId: 'main', messageId: 'B', to: '628123456789', jid: '628123456789@s.whatsapp.net', type: 'text', at })
  sender.emit('failed', { sessionId: 'main', to: '628123456789', type: 'otp', errorCode: 'SESSION_NOT_CONNECTED', message: 'Session tidak terhubung', at })
  otp.emit('sent', { sessionId: 'main', to: '628123456789', messageId: 'A', expiresAt: at, at })
  app.verifications.events.emit('approved', { to: '628123456789', verification: null, method: 'outbound', at })
  otp.emit('failed', { to: '628123456789', reason: 'expired', attemptsLeft: null, at })
  otp.emit('failed', { to: '628123456789', reason: 'invalid', attemptsLeft: 3, at })

  const samples = await scrape(app)
  t.equal(sampleValue(samples, 'otp_sent_total'), 1)
  t.equal(sampleValue(samples, 'messages_sent_total', { type: 'otp', result: 'sent' }), 1)
  t.equal(sampleValue(samples, 'messages_sent_total', { type: 'text', result: 'sent' }), 1)
  t.equal(sampleValue(samples, 'messages_sent_total', { type: 'otp', result: 'failed' }), 1)
  t.equal(sampleValue(samples, 'otp_verified_total', { result: 'valid' }), 1)
  t.equal(sampleValue(samples, 'otp_verified_total', { result: 'expired' }), 1)
  t.equal(sampleValue(samples, 'otp_verified_total', { result: 'invalid' }), 1)

  const health = (await app.inject({ method: 'GET', url: '/api/health' })).json()
  t.same(health.data.checks.counters, { status: 'ok', totalOTPSent: 1, failedRequests: 1, activeSessions: 0 })
})

t.test('webhook delivery results are counted', async (t) => {
  const { app } = await build(t)
  app.webhooks.events.emit('result', { event: 'otp.sent', url: 'http://127.0.0.1:9/', deliveryId: 'x', outcome: 'retry', attempts: 1 })
  app.webhooks.events.emit('result', { event: 'otp.sent', url: 'http://127.0.0.1:9/', deliveryId: 'x', outcome: 'delivered', attempts: 2 })
  const samples = await scrape(app)
  t.equal(sampleValue(samples, 'webhook_deliveries_total', { result: 'retry' }), 1)
  t.equal(sampleValue(samples, 'webhook_deliveries_total', { result: 'delivered' }), 1)
  t.equal(sampleValue(samples, 'webhook_deliveries_total', { result: 'failed' }), 0)
})

t.test('two apps in one process keep their own counters', async (t) => {
  const first = await build(t)
  const second = await build(t)
  first.app.webhooks.events.emit('result', { event: 'otp.sent', url: 'http://127.0.0.1:9/', deliveryId: 'x', outcome: 'failed', attempts: 1 })
  t.equal(sampleValue(await scrape(first.app), 'webhook_deliveries_total', { result: 'failed' }), 1)
  t.equal(sampleValue(await scrape(second.app), 'webhook_deliveries_total', { result: 'failed' }), 0)
})
