import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'
import { parsePrometheusText, sampleValue, type Sample } from './helpers/prometheus-text.js'
import { startWebhookReceiver, type ReceivedWebhook } from './helpers/webhook-receiver.js'
import { verifyWebhookSignature } from '../src/webhook-signature.js'

const secret = 'receiver-shared-secret'
const linkedPhone = '6281234567101'
const contactPhone = '6281234567102'

async function scrape (app: FastifyInstance): Promise<Sample[]> {
  return parsePrometheusText((await app.inject({ method: 'GET', url: '/metrics', headers: authHeaders })).body)
}

async function messageStatus (app: FastifyInstance, messageId: string): Promise<Record<string, unknown>> {
  return (await app.inject({ method: 'GET', url: `/api/messages/main/status/${messageId}`, headers: authHeaders })).json().data
}

t.test('a linked session, its messages and its logout, as webhooks, statuses and metrics', async (t) => {
  const receiver = await startWebhookReceiver(t)
  const { app, simulator } = await buildWithSimulator(t, { env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, OTP_EXPOSE_CODE: 'true' } })
  const isGenuine = (request: ReceivedWebhook): boolean =>
    verifyWebhookSignature(secret, request.headers['x-webhook-timestamp'], request.rawBody, request.headers['x-webhook-signature'])
  const before = await scrape(app)

  await linkSession(app, simulator, 'main', linkedPhone)
  const qr = await receiver.waitFor((request) => request.event === 'session.qr')
  t.match(qr.data.qr, /^https:\/\/wa\.me\/settings\/linked_devices#/)
  const connected = await receiver.waitFor((request) => request.event === 'session.connected')
  t.equal(connected.sessionId, 'main')
  t.match(connected.data, { user: { id: new RegExp(`^${linkedPhone}:`) } })
  t.ok(isGenuine(connected))
  const restart = await receiver.waitFor((request) => request.event === 'session.disconnected')
  t.match(restart.data, { reason: 'restart-required', statusCode: 515, willReconnect: true }, 'the normal restart after a scan')

  t.test('an OTP: its message is tracked, receipts turn into delivered and read, verification is a webhook', async (t) => {
    simulator.addContact(contactPhone)
    const sent = await app.inject({ method: 'POST', url: '/api/messages/main/otp', headers: authHeaders, payload: { to: contactPhone } })
    t.equal(sent.statusCode, 200, sent.body)
    const { messageId, code } = sent.json().data as { messageId: string, code: string }
    await simulator.nextMessage(contactPhone)
    const otpSent = await receiver.waitFor((request) => request.event === 'otp.sent')
    t.match(otpSent.data, { to: contactPhone, messageId })
    const statusSent = await receiver.waitFor((request) => request.event === 'message.status' && request.data.status === 'sent')
    t.match(statusSent.data, { messageId, to: contactPhone, type: 'otp' })

    simulator.sendReceipt(contactPhone, messageId, 'delivered')
    const delivered = await receiver.waitFor((request) => request.event === 'message.status' && request.data.status === 'delivered')
    t.equal(delivered.data.messageId, messageId)
    t.ok(isGenuine(delivered))
    t.match(await messageStatus(app, messageId), { status: 'delivered', deliveredAt: String, readAt: null })

    simulator.sendReceipt(contactPhone, messageId, 'read')
    await receiver.waitFor((request) => request.event === 'message.status' && request.data.status === 'read')
    const status = await messageStatus(app, messageId)
    t.match(status, { messageId, sessionId: 'main', to: contactPhone, type: 'otp', status: 'read', failedAt: null })
    t.ok(Date.parse(status.readAt as string) >= Date.parse(status.deliveredAt as string))
    t.ok(Date.parse(status.deliveredAt as string) >= Date.parse(status.sentAt as string))

    const wrong = code === '000000' ? '111111' : '000000'
    await app.inject({ method: 'POST', url: '/api/otp/verify', headers: authHeaders, payload: { to: contactPhone, code: wrong } })
    t.match((await receiver.waitFor((request) => request.event === 'otp.failed')).data, { to: contactPhone, reason: 'invalid' })
    const verify = await app.inject({ method: 'POST', url: '/api/otp/verify', headers: authHeaders, payload: { to: contactPhone, code } })
    t.equal(verify.statusCode, 200, verify.body)
    const verified = await receiver.waitFor((request) => request.event === 'otp.verified')
    t.equal(verified.sessionId, 'main', 'the session that sent the code')
    t.match(verified.data, { to: contactPhone, method: 'outbound', verificationId: sent.json().data.verificationId })
    t.notOk(receiver.requests.some((request) => request.rawBody.includes(`"${code}"`)), 'no webhook carries the code')
  })

  t.test('an inbound text becomes message.received', async (t) => {
    const messageId = await simulator.sendText(contactPhone, linkedPhone, 'Halo juga')
    const received = await receiver.waitFor((request) => request.event === 'message.received')
    t.equal(received.sessionId, 'main')
    t.match(received.data, { messageId, from: simulator.addContact(contactPhone).jid, phone: contactPhone, text: 'Halo juga', timestamp: /^\d{4}-/ })
  })

  t.test('message.received carries the sender\'s number also when WhatsApp addresses it by LID, null when unresolved', async (t) => {
    const received = async (messageId: string) => (await receiver.waitFor((request) => request.event === 'message.received' && request.data.messageId === messageId)).data
    // A number this device never heard of, named by LID only: nothing maps it to a number yet.
    const hidden = simulator.addContact('6281234567103')
    const unresolved = await simulator.sendText(hidden.phone, linkedPhone, 'tanpa nomor', { addressing: 'lid' })
    const unresolvedData = await received(unresolved)
    t.match(unresolvedData, { from: hidden.lid, text: 'tanpa nomor' })
    t.equal(unresolvedData.phone, null, 'present, and null')

    // The same sender with the alternate PN WhatsApp adds to 1:1 stanzas: resolved from it.
    const withAlternate = await simulator.sendText(hidden.phone, linkedPhone, 'dengan nomor', { addressing: 'lid', alternateAddress: true })
    t.match(await received(withAlternate), { from: hidden.lid, phone: hidden.phone })
    // Baileys stored the mapping from that stanza: a later LID-only message resolves through it.
    const mapped = await simulator.sendText(hidden.phone, linkedPhone, 'lagi', { addressing: 'lid' })
    t.match(await received(mapped), { from: hidden.lid, phone: hidden.phone })
  })

  t.test('metrics and health follow the session', async (t) => {
    const samples = await scrape(app)
    t.equal(sampleValue(before, 'sessions', { state: 'connected' }), 0)
    t.equal(sampleValue(samples, 'sessions', { state: 'connected' }), 1)
    t.equal(sampleValue(samples, 'session_reconnects_total', { reason: 'restart-required' }) - sampleValue(before, 'session_reconnects_total', { reason: 'restart-required' }), 1, 'the 515 after the scan')
    t.equal(sampleValue(samples, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/sessions/create', status_code: '201' }), 1)
    t.equal(sampleValue(samples, 'otp_sent_total'), 1)
    t.equal(sampleValue(samples, 'messages_sent_total', { type: 'otp', result: 'sent' }), 1)
    t.equal(sampleValue(samples, 'otp_verified_total', { result: 'valid' }), 1)
    t.equal(sampleValue(samples, 'otp_verified_total', { result: 'invalid' }), 1)
    const { delivered } = await app.webhooks.stats()
    t.ok(delivered >= 5)
    t.equal(sampleValue(samples, 'webhook_deliveries_total', { result: 'delivered' }), delivered)
    const health = (await app.inject({ method: 'GET', url: '/api/health' })).json()
    t.match(health.data.checks, { counters: { totalOTPSent: 1, failedRequests: 0, activeSessions: 1 }, webhooks: { status: 'ok', configured: true } })
  })

  t.test('the phone removes the device: session.disconnected, then session.logged_out', async (t) => {
    const removed = nextSessionEvent(app, 'removed', 'main')
    simulator.forceClose(linkedPhone, 'device-removed')
    await removed
    const loggedOut = await receiver.waitFor((request) => request.event === 'session.logged_out')
    t.equal(loggedOut.sessionId, 'main')
    const disconnected = await receiver.waitFor((request) => request.event === 'session.disconnected' && request.data.reason === 'logged-out')
    t.match(disconnected.data, { statusCode: 401, willReconnect: false })
    t.equal(sampleValue(await scrape(app), 'sessions', { state: 'connected' }), 0)
  })
})
