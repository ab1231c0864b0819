import { createHmac } from 'node:crypto'
import t from 'tap'
import {
  signWebhook,
  verifyWebhookSignature,
  webhookDeliveryHeader,
  webhookEventHeader,
  webhookSignatureHeader,
  webhookSignatureHeaderValue,
  webhookTimestampHeader
} from '../src/webhook-signature.js'

const secret = 'receiver-shared-secret'
const body = '{"event":"otp.sent","sessionId":"main","timestamp":"2025-01-01T00:00:00.000Z","data":{}}'
const timestamp = 1_735_689_600
const now = timestamp * 1000

t.test('header names', async (t) => {
  t.equal(webhookEventHeader, 'X-Webhook-Event')
  t.equal(webhookDeliveryHeader, 'X-Webhook-Delivery')
  t.equal(webhookTimestampHeader, 'X-Webhook-Timestamp')
  t.equal(webhookSignatureHeader, 'X-Webhook-Signature')
})

t.test('the signature is HMAC-SHA256 hex over "<timestamp>.<body>"', async (t) => {
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
  t.equal(signWebhook(secret, timestamp, body), expected)
  t.equal(signWebhook(secret, String(timestamp), Buffer.from(body)), expected, 'string or bytes, number or text timestamp: same signature')
  t.equal(webhookSignatureHeaderValue(secret, timestamp, body), `sha256=${expected}`)
})

t.test('a correct signature verifies', async (t) => {
  const header = webhookSignatureHeaderValue(secret, timestamp, body)
  t.equal(verifyWebhookSignature(secret, String(timestamp), body, header, { now }), true)
  t.equal(verifyWebhookSignature(secret, timestamp, Buffer.from(body), header.toUpperCase().replace('SHA256=', 'sha256='), { now }), true, 'hex case does not matter')
})

t.test('verification uses the current time by default', async (t) => {
  const current = Math.floor(Date.now() / 1000)
  t.equal(verifyWebhookSignature(secret, current, body, webhookSignatureHeaderValue(secret, current, body)), true)
  t.equal(verifyWebhookSignature(secret, timestamp, body, webhookSignatureHeaderValue(secret, timestamp, body)), false, 'an old timestamp is rejected')
})

t.test('anything altered fails', async (t) => {
  const header = webhookSignatureHeaderValue(secret, timestamp, body)
  t.equal(verifyWebhookSignature('other-secret', timestamp, body, header, { now }), false, 'other secret')
  t.equal(verifyWebhookSignature(secret, timestamp, body.replace('otp.sent', 'otp.verified'), header, { now }), false, 'altered body')
  t.equal(verifyWebhookSignature(secret, timestamp + 1, body, header, { now }), false, 'altered timestamp')
  const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0')
  t.equal(verifyWebhookSignature(secret, timestamp, body, flipped, { now }), false, 'one hex digit changed')
})

t.test('malformed headers fail without throwing', async (t) => {
  const hex = signWebhook(secret, timestamp, body)
  t.equal(verifyWebhookSignature(secret, timestamp, body, undefined, { now }), false, 'missing signature')
  t.equal(verifyWebhookSignature(secret, timestamp, body, [`sha256=${hex}`, `sha256=${hex}`], { now }), false, 'repeated header')
  t.equal(verifyWebhookSignature(secret, timestamp, body, hex, { now }), false, 'no sha256= prefix')
  t.equal(verifyWebhookSignature(secret, timestamp, body, `sha1=${hex}`, { now }), false, 'other algorithm')
  t.equal(verifyWebhookSignature(secret, timestamp, body, `sha256=${hex.slice(2)}`, { now }), false, 'too short')
  t.equal(verifyWebhookSignature(secret, timestamp, body, `sha256=${'z'.repeat(64)}`, { now }), false, 'not hex')
  t.equal(verifyWebhookSignature(secret, undefined, body, `sha256=${hex}`, { now }), false, 'missing timestamp')
  t.equal(verifyWebhookSignature(secret, '1735689600.5', body, `sha256=${hex}`, { now }), false, 'timestamp not whole seconds')
})

t.test('the timestamp must be within the tolerance', async (t) => {
  const header = webhookSignatureHeaderValue(secret, timestamp, body)
  t.equal(verifyWebhookSignature(secret, timestamp, body, header, { now: now + 300_000 }), true, 'exactly at the default 300 s')
  t.equal(verifyWebhookSignature(secret, timestamp, body, header, { now: now + 301_000 }), false, 'past the default')
  t.equal(verifyWebhookSignature(secret, timestamp, body, header, { now: now - 301_000 }), false, 'too far in the future')
  t.equal(verifyWebhookSignature(secret, timestamp, body, header, { now: now + 20_000, toleranceSeconds: 10 }), false, 'custom tolerance')
  t.equal(verifyWebhookSignature(secret, timestamp, body, header, { now: now + 9_000, toleranceSeconds: 10 }), true, 'within custom tolerance')
})
