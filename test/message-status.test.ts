import { once } from 'node:events'
import t from 'tap'
import { authHeaders, build } from './helper.js'
import type { Test } from 'tap'
import { createMessageStatusTracker, type StoredMessageStatus } from '../plugins/message-status.js'
import type { MessageStatusChange } from '../src/events.js'
import { openTestStateStore } from './helpers/state-store.js'

async function trackerWithClock (t: Test, options: { ttlMs?: number } = {}) {
  let now = Date.parse('2025-03-04T05:06:07.000Z')
  const store = await openTestStateStore(t, { clock: () => now })
  const tracker = createMessageStatusTracker({ ...options, records: store.records<StoredMessageStatus>('message-status'), clock: () => now })
  const changes: MessageStatusChange[] = []
  tracker.events.on('change', (change) => changes.push(change))
  return { tracker, changes, advance: (ms: number) => { now += ms }, at: () => new Date(now) }
}

t.test('sent, delivered, read: each step once, with its time', async (t) => {
  const { tracker, changes, advance, at } = await trackerWithClock(t)
  await tracker.recordSent({ sessionId: 'main', messageId: 'M1', to: '628123456789', type: 'text', at: at() })
  advance(1000)
  await tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'sent' })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'pending' })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'delivered' })
  advance(1000)
  await tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'read' })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'delivered' })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'failed' })

  t.same(await tracker.get('main', 'M1'), {
    messageId: 'M1',
    sessionId: 'main',
    to: '628123456789',
    type: 'text',
    status: 'read',
    sentAt: '2025-03-04T05:06:07.000Z',
    deliveredAt: '2025-03-04T05:06:08.000Z',
    readAt: '2025-03-04T05:06:09.000Z',
    failedAt: null
  })
  t.same(changes.map((change) => [change.message.status, change.at]), [
    ['sent', '2025-03-04T05:06:07.000Z'],
    ['delivered', '2025-03-04T05:06:08.000Z'],
    ['read', '2025-03-04T05:06:09.000Z']
  ])
  t.equal(await tracker.get('other', 'M1'), undefined, 'a message id belongs to its session')
})

t.test('failed only after sent; a read alone implies delivery; played counts as read', async (t) => {
  const { tracker, at } = await trackerWithClock(t)
  await tracker.recordSent({ sessionId: 'main', messageId: 'F', to: '628123456789', type: 'image', at: at() })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'F', status: 'failed' })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'F', status: 'delivered' })
  t.match(await tracker.get('main', 'F'), { status: 'failed', failedAt: '2025-03-04T05:06:07.000Z', deliveredAt: null })

  await tracker.recordSent({ sessionId: 'main', messageId: 'P', to: '628123456789', type: 'audio', at: at() })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'P', status: 'played' })
  t.match(await tracker.get('main', 'P'), { status: 'read', readAt: '2025-03-04T05:06:07.000Z', deliveredAt: '2025-03-04T05:06:07.000Z' })
})

t.test('a receipt handled before the sent report is applied when the report comes', async (t) => {
  const { tracker, changes, at } = await trackerWithClock(t)
  await tracker.recordStatus({ sessionId: 'main', messageId: 'EARLY', status: 'delivered' })
  t.equal(await tracker.get('main', 'EARLY'), undefined)
  await tracker.recordSent({ sessionId: 'main', messageId: 'EARLY', to: '628123456789', type: 'otp', at: at() })
  t.match(await tracker.get('main', 'EARLY'), { status: 'delivered', type: 'otp' })
  t.same(changes.map((change) => change.message.status), ['sent', 'delivered'])
})

t.test('a message reported twice is tracked once, with its first report', async (t) => {
  const { tracker, changes, at } = await trackerWithClock(t)
  await tracker.recordSent({ sessionId: 'main', messageId: 'O', to: '628123456789', type: 'otp', at: at() })
  await tracker.recordSent({ sessionId: 'main', messageId: 'O', to: '628123456789', type: 'text', at: at() })
  t.equal((await tracker.get('main', 'O'))?.type, 'otp')
  t.equal(changes.length, 1)
})

t.test('OTP messages are tracked from the sender\'s report alone', async (t) => {
  const { app } = await build(t)
  // The sender reports every OTP message with type otp; the OTP plugin's own event is for
  // webhooks and metrics and is not a second source of messages.
  app.otp.events.emit('sent', { sessionId: 'main', to: '628123456789', messageId: 'FROM-OTP', expiresAt: new Date(), at: new Date() })
  t.equal(await app.messageStatus.get('main', 'FROM-OTP'), undefined)
  const stored = once(app.messageStatus.events, 'change')
  app.messageSender.events.emit('sent', { sessionId: 'main', messageId: 'FROM-SENDER', to: '628123456789', jid: '628123456789@s.whatsapp.net', type: 'otp', at: new Date() })
  await stored
  t.match(await app.messageStatus.get('main', 'FROM-SENDER'), { type: 'otp', status: 'sent' })
})

t.test('a status is kept a day after its last change, then forgotten', async (t) => {
  const { tracker, advance, at } = await trackerWithClock(t, { ttlMs: 60_000 })
  for (const messageId of ['B', 'C']) await tracker.recordSent({ sessionId: 'main', messageId, to: '628123456789', type: 'text', at: at() })
  advance(30_000)
  await tracker.recordStatus({ sessionId: 'main', messageId: 'B', status: 'delivered' })
  await tracker.recordStatus({ sessionId: 'main', messageId: 'C', status: 'pending' })
  advance(30_000)
  t.equal(await tracker.get('main', 'C'), undefined, 'expired: a status that changes nothing does not renew it')
  t.match(await tracker.get('main', 'B'), { status: 'delivered' }, 'a change renews the age')
  advance(60_000)
  t.equal(await tracker.get('main', 'B'), undefined)
})

t.test('statuses outlive the tracker: a new one on the same store reads and advances them', async (t) => {
  let now = Date.parse('2025-03-04T05:06:07.000Z')
  const store = await openTestStateStore(t, { clock: () => now })
  const records = store.records<StoredMessageStatus>('message-status')
  const first = createMessageStatusTracker({ records, clock: () => now })
  await first.recordSent({ sessionId: 'main', messageId: 'KEPT', to: '628123456789', type: 'otp', at: new Date(now) })
  await first.recordStatus({ sessionId: 'other', messageId: 'EARLY', status: 'read' })
  now += 1000
  const second = createMessageStatusTracker({ records, clock: () => now })
  const changes: MessageStatusChange[] = []
  second.events.on('change', (change) => changes.push(change))
  await second.recordStatus({ sessionId: 'main', messageId: 'KEPT', status: 'delivered' })
  await second.recordSent({ sessionId: 'other', messageId: 'EARLY', to: '628123456789', type: 'text', at: new Date(now) })
  t.match(await second.get('main', 'KEPT'), { status: 'delivered', deliveredAt: '2025-03-04T05:06:08.000Z' })
  t.match(await second.get('other', 'EARLY'), { status: 'read', readAt: '2025-03-04T05:06:07.000Z' }, 'the early receipt was kept in the store')
  t.same(changes.map((change) => change.message.status), ['delivered', 'sent', 'read'])
})

t.test('GET /api/messages/:sessionId/status/:messageId', async (t) => {
  const { app } = await build(t)
  await app.messageStatus.recordSent({ sessionId: 'main', messageId: '3EB0C0FFEE', to: '628123456789', type: 'otp', at: new Date('2025-03-04T05:06:07.000Z') })

  const found = await app.inject({ method: 'GET', url: '/api/messages/main/status/3EB0C0FFEE', headers: authHeaders })
  t.equal(found.statusCode, 200)
  t.same(found.json(), {
    success: true,
    data: { messageId: '3EB0C0FFEE', sessionId: 'main', to: '628123456789', type: 'otp', status: 'sent', sentAt: '2025-03-04T05:06:07.000Z', deliveredAt: null, readAt: null, failedAt: null }
  })

  const missing = await app.inject({ method: 'GET', url: '/api/messages/main/status/UNKNOWN', headers: authHeaders })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { success: false, message: 'Pesan UNKNOWN tidak ditemukan', error: 'MESSAGE_NOT_FOUND' })
  t.equal((await app.inject({ method: 'GET', url: '/api/messages/bad%20id/status/X', headers: authHeaders })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/api/messages/main/status/3EB0C0FFEE' })).statusCode, 401)
})
