import t from 'tap'
import { authHeaders, build } from './helper.js'
import { createMessageStatusTracker } from '../plugins/message-status.js'
import type { MessageStatusChange } from '../src/events.js'
import { ExpiringMap } from '../src/expiring-map.js'

function trackerWithClock (options: { maxMessages?: number, ttlMs?: number } = {}) {
  let now = Date.parse('2025-03-04T05:06:07.000Z')
  const tracker = createMessageStatusTracker({ ...options, clock: () => now })
  const changes: MessageStatusChange[] = []
  tracker.events.on('change', (change) => changes.push(change))
  return { tracker, changes, advance: (ms: number) => { now += ms }, at: () => new Date(now) }
}

t.test('sent, delivered, read: each step once, with its time', async (t) => {
  const { tracker, changes, advance, at } = trackerWithClock()
  tracker.recordSent({ sessionId: 'main', messageId: 'M1', to: '628123456789', type: 'text', at: at() })
  advance(1000)
  tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'sent' })
  tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'pending' })
  tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'delivered' })
  advance(1000)
  tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'read' })
  tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'delivered' })
  tracker.recordStatus({ sessionId: 'main', messageId: 'M1', status: 'failed' })

  t.same(tracker.get('main', 'M1'), {
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
  t.equal(tracker.get('other', 'M1'), undefined, 'a message id belongs to its session')
})

t.test('failed only after sent; a read alone implies delivery; played counts as read', async (t) => {
  const { tracker, at } = trackerWithClock()
  tracker.recordSent({ sessionId: 'main', messageId: 'F', to: '628123456789', type: 'image', at: at() })
  tracker.recordStatus({ sessionId: 'main', messageId: 'F', status: 'failed' })
  tracker.recordStatus({ sessionId: 'main', messageId: 'F', status: 'delivered' })
  t.match(tracker.get('main', 'F'), { status: 'failed', failedAt: '2025-03-04T05:06:07.000Z', deliveredAt: null })

  tracker.recordSent({ sessionId: 'main', messageId: 'P', to: '628123456789', type: 'audio', at: at() })
  tracker.recordStatus({ sessionId: 'main', messageId: 'P', status: 'played' })
  t.match(tracker.get('main', 'P'), { status: 'read', readAt: '2025-03-04T05:06:07.000Z', deliveredAt: '2025-03-04T05:06:07.000Z' })
})

t.test('a receipt handled before the sent report is applied when the report comes', async (t) => {
  const { tracker, changes, at } = trackerWithClock()
  tracker.recordStatus({ sessionId: 'main', messageId: 'EARLY', status: 'delivered' })
  t.equal(tracker.get('main', 'EARLY'), undefined)
  tracker.recordSent({ sessionId: 'main', messageId: 'EARLY', to: '628123456789', type: 'otp', at: at() })
  t.match(tracker.get('main', 'EARLY'), { status: 'delivered', type: 'otp' })
  t.same(changes.map((change) => change.message.status), ['sent', 'delivered'])
})

t.test('a message reported twice is tracked once, with its first report', async (t) => {
  const { tracker, changes, at } = trackerWithClock()
  tracker.recordSent({ sessionId: 'main', messageId: 'O', to: '628123456789', type: 'otp', at: at() })
  tracker.recordSent({ sessionId: 'main', messageId: 'O', to: '628123456789', type: 'text', at: at() })
  t.equal(tracker.get('main', 'O')?.type, 'otp')
  t.equal(changes.length, 1)
})

t.test('OTP messages are tracked from the sender\'s report alone', async (t) => {
  const { app } = await build(t)
  // The sender reports every OTP message with type otp; the OTP plugin's own event is for
  // webhooks and metrics and is not a second source of messages.
  app.otp.events.emit('sent', { sessionId: 'main', to: '628123456789', messageId: 'FROM-OTP', expiresAt: new Date(), at: new Date() })
  t.equal(app.messageStatus.get('main', 'FROM-OTP'), undefined)
  app.messageSender.events.emit('sent', { sessionId: 'main', messageId: 'FROM-SENDER', to: '628123456789', jid: '628123456789@s.whatsapp.net', type: 'otp', at: new Date() })
  t.match(app.messageStatus.get('main', 'FROM-SENDER'), { type: 'otp', status: 'sent' })
})

t.test('memory is bounded by count and by age', async (t) => {
  const { tracker, advance, at } = trackerWithClock({ maxMessages: 2, ttlMs: 60_000 })
  for (const messageId of ['A', 'B', 'C']) tracker.recordSent({ sessionId: 'main', messageId, to: '628123456789', type: 'text', at: at() })
  t.equal(tracker.get('main', 'A'), undefined, 'the oldest went first')
  t.ok(tracker.get('main', 'B'))
  advance(30_000)
  tracker.recordStatus({ sessionId: 'main', messageId: 'B', status: 'delivered' })
  advance(30_000)
  t.equal(tracker.get('main', 'C'), undefined, 'expired')
  t.match(tracker.get('main', 'B'), { status: 'delivered' }, 'a change renews the age')
})

t.test('ExpiringMap: size counts live entries only, a write moves a key to the end', async (t) => {
  let now = 0
  const map = new ExpiringMap<string, number>(2, 100, () => now)
  map.set('a', 1)
  map.set('b', 2)
  map.set('a', 3)
  map.set('c', 4)
  t.equal(map.get('b'), undefined)
  t.equal(map.get('a'), 3)
  t.equal(map.size, 2)
  now = 100
  t.equal(map.size, 0)
  map.set('d', 5)
  map.delete('d')
  t.equal(map.get('d'), undefined)
})

t.test('GET /api/messages/:sessionId/status/:messageId', async (t) => {
  const { app } = await build(t)
  app.messageStatus.recordSent({ sessionId: 'main', messageId: '3EB0C0FFEE', to: '628123456789', type: 'otp', at: new Date('2025-03-04T05:06:07.000Z') })

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
