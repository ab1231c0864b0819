import type { EventEmitter } from 'node:events'
import { readFile } from 'node:fs/promises'
import { pino } from 'pino'
import t from 'tap'
import { wireEvents, type EventProducers, type Subscription } from '../plugins/event-wiring.js'
import { build } from './helper.js'
import { createProducers, idleConsumers } from './helpers/event-producers.js'

const silentLogger = pino({ level: 'silent' })

function producersOf (app: Awaited<ReturnType<typeof build>>['app']): EventProducers {
  return {
    sessions: app.sessions.events,
    messageSender: app.messageSender.events,
    otp: app.otp.events,
    messageStatus: app.messageStatus.events,
    webhooks: app.webhooks.events,
    restrictions: app.restrictions.events,
    verifications: app.verifications.events
  }
}

function listenerCounts (producers: EventProducers): Map<string, number> {
  const counts = new Map<string, number>()
  for (const [producer, emitter] of Object.entries(producers) as Array<[string, EventEmitter]>) {
    for (const event of emitter.eventNames()) counts.set(`${producer}.${String(event)}`, emitter.listenerCount(event))
  }
  return counts
}

function subscriptionCounts (subscriptions: Subscription[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const { producer, event } of subscriptions) counts.set(`${producer}.${event}`, (counts.get(`${producer}.${event}`) ?? 0) + 1)
  return counts
}

t.test('in the built app every listener between plugins is one the wiring lists, and closing removes them', async (t) => {
  const { app } = await build(t)
  const producers = producersOf(app)
  const { subscriptions } = wireEvents(createProducers(), idleConsumers(), silentLogger)
  t.same(Object.fromEntries(listenerCounts(producers)), Object.fromEntries(subscriptionCounts(subscriptions)),
    'no plugin subscribes to another plugin\'s events outside plugins/event-wiring.ts')
  await app.close()
  t.same(Object.fromEntries(listenerCounts(producers)), {}, 'no listener is left after close')
})

t.test('the message tracker hears an OTP message once, through the sender', async (t) => {
  const producers = createProducers()
  const recorded: string[] = []
  const wiring = wireEvents(producers, idleConsumers({
    messageStatus: { recordSent: async ({ messageId, type }) => { recorded.push(`${type}:${messageId}`) }, recordStatus: async () => {} }
  }), silentLogger)
  t.teardown(wiring.unwire)
  const at = new Date()
  producers.messageSender.emit('sent', { sessionId: 'main', messageId: 'M1', to: '628123456789', jid: '628123456789@s.whatsapp.net', type: 'otp', at })
  producers.otp.emit('sent', { sessionId: 'main', to: '628123456789', messageId: 'M1', expiresAt: at, at })
  t.same(recorded, ['otp:M1'])
  t.same(wiring.subscriptions.filter(({ consumer }) => consumer === 'messageStatus').map(({ producer, event }) => `${producer}.${event}`),
    ['messageSender.sent', 'sessions.message-status'])
})

t.test('a consumer that throws is logged and the other consumers still hear the event', async (t) => {
  const producers = createProducers()
  const published: string[] = []
  const wiring = wireEvents(producers, idleConsumers({
    messageSender: { forgetSession: async () => {}, sessionLeft: async () => {} },
    messageStatus: { recordSent () { throw new Error('broken tracker') }, async recordStatus () {} },
    webhooks: { publish: (event) => { published.push(event) } }
  }), silentLogger)
  t.teardown(wiring.unwire)
  producers.messageSender.emit('failed', { sessionId: 'main', to: '628123456789', type: 'text', errorCode: 'SESSION_NOT_CONNECTED', message: 'x', at: new Date() })
  t.doesNotThrow(() => producers.messageSender.emit('sent', { sessionId: 'main', messageId: 'M1', to: '628123456789', jid: 'j', type: 'text', at: new Date() }))
  t.same(published, ['message.status'])
})

t.test('restrictions and verifications react through the wiring, before the send\'s own consumers', async (t) => {
  const producers = createProducers()
  const heard: string[] = []
  const counted: string[] = []
  const wiring = wireEvents(producers, idleConsumers({
    restrictions: {
      recordRestriction: ({ source }) => { heard.push(`restriction:${source}`) },
      recordReceived: ({ phone }) => { heard.push(`received:${String(phone)}`) },
      recordSent: ({ to }) => { heard.push(`restrictions-sent:${to}`) },
      recordFailed: ({ errorCode }) => { heard.push(`failed:${errorCode}`) },
      forgetSession: (sessionId) => { heard.push(`forget:${sessionId}`) },
      sessionLeft: (sessionId) => { heard.push(`left:${sessionId}`) }
    },
    verifications: {
      handleInbound: ({ text }) => { heard.push(`inbound:${String(text)}`) },
      handleStatusChange: ({ message }) => { heard.push(`status:${message.status}`) }
    },
    messageStatus: { recordSent: async ({ to }) => { heard.push(`tracker-sent:${to}`) }, recordStatus: async () => {} },
    webhooks: { publish: (event, sessionId, data) => { heard.push(`${event}:${String(sessionId)}:${JSON.stringify(data)}`) } },
    metrics: {
      ...idleConsumers().metrics,
      sessionRestrictionChanges: { inc: ({ change }: { change: string }) => { counted.push(change) } },
      otpVerified: { inc: ({ result }: { result: string }) => { counted.push(`otp:${result}`) } }
    } as never
  }), silentLogger)
  t.teardown(wiring.unwire)
  const at = new Date('2026-01-01T00:00:00.000Z')
  producers.sessions.emit('restriction', { sessionId: 'main', source: 'timelock', active: true, until: null, reason: 'x' })
  producers.messageSender.emit('sent', { sessionId: 'main', messageId: 'M1', to: '628123456789', jid: 'j', type: 'text', at })
  producers.messageSender.emit('failed', { sessionId: 'main', to: '628123456789', type: 'text', errorCode: 'SENDER_RESTRICTED', message: 'x', at })
  producers.sessions.emit('message-received', { sessionId: 'main', messageId: 'M2', from: 'f', phone: '628123456789', pushName: null, text: '123456', timestamp: 0 })
  producers.messageStatus.emit('change', { message: { messageId: 'M3', sessionId: 'main', to: '628123456789', type: 'otp', status: 'failed', sentAt: '', deliveredAt: null, readAt: null, failedAt: '' }, at: '' })
  producers.sessions.emit('removed', { sessionId: 'main' })
  producers.restrictions.emit('restricted', { sessionId: 'main', newChats: 'blocked', until: null, reason: 'REFUSED_463' })
  producers.restrictions.emit('lifted', { sessionId: 'main' })
  const verification = { verificationId: 'V1', to: null, method: 'inbound' as const, status: 'approved' as const, sessionId: 'main', createdAt: '', expiresAt: '', approvedAt: '', phone: '628123456789' }
  producers.verifications.emit('approved', { to: '628123456789', verification, method: 'inbound', at })
  t.same(heard.filter((entry) => !entry.startsWith('message.')), [
    'restriction:timelock',
    'restrictions-sent:628123456789', 'tracker-sent:628123456789',
    'failed:SENDER_RESTRICTED',
    'received:628123456789', 'inbound:123456',
    'status:failed',
    'forget:main',
    'session.restricted:main:{"newChats":"blocked","until":null,"reason":"REFUSED_463"}',
    'session.restriction_lifted:main:{}',
    'otp.verified:main:{"to":"628123456789","method":"inbound","verificationId":"V1","at":"2026-01-01T00:00:00.000Z"}'
  ])
  t.same(counted, ['restricted', 'lifted', 'otp:valid'])
})

// A session that moved to another instance (REDIS_URL) kept its send queue, lookups, restriction
// and place in the pool on the old one: 'removed' was the only way they were dropped, and
// 'removed' also deletes what the cluster shares (the chats), so it cannot stand in for it.
t.test('a session that left this instance: only its local state is dropped, its shared chats stay', async (t) => {
  const producers = createProducers()
  const heard: string[] = []
  const wiring = wireEvents(producers, idleConsumers({
    messageSender: { forgetSession: async (sessionId) => { heard.push(`sender.forgetSession:${sessionId}`) }, sessionLeft: async (sessionId) => { heard.push(`sender.sessionLeft:${sessionId}`) } },
    restrictions: {
      ...idleConsumers().restrictions,
      forgetSession: (sessionId) => { heard.push(`restrictions.forgetSession:${sessionId}`) },
      sessionLeft: (sessionId) => { heard.push(`restrictions.sessionLeft:${sessionId}`) }
    },
    senderPool: { forgetSession: (sessionId) => { heard.push(`pool.forgetSession:${sessionId}`) } }
  }), silentLogger)
  t.teardown(wiring.unwire)
  producers.sessions.emit('left', { sessionId: 'moved' })
  t.same(heard.sort(), ['pool.forgetSession:moved', 'restrictions.sessionLeft:moved', 'sender.sessionLeft:moved'])
  heard.length = 0
  producers.sessions.emit('removed', { sessionId: 'deleted' })
  t.same(heard.sort(), ['pool.forgetSession:deleted', 'restrictions.forgetSession:deleted', 'sender.forgetSession:deleted'], 'a removed session still loses everything')
})

// docs/architecture.md's events table is the map a newcomer reads: it must say what the code does.
t.test('docs/architecture.md lists exactly the wired subscriptions', async (t) => {
  const document = await readFile(new URL('../docs/architecture.md', import.meta.url), 'utf8')
  const section = document.split('\n## ').find((part) => part.startsWith('Events'))
  t.ok(section, 'an "Events" section')
  const documented: string[] = []
  for (const line of (section ?? '').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim().replaceAll('`', ''))
    if (cells.length < 5 || cells[1] === 'Producer' || cells[1].startsWith('-')) continue
    for (const consumer of cells[3].split(',').map((name) => name.trim())) documented.push(`${cells[1]}.${cells[2]} → ${consumer}`)
  }
  const { subscriptions } = wireEvents(createProducers(), idleConsumers(), silentLogger)
  const wired = subscriptions.map(({ producer, event, consumer }) => `${producer}.${event} → ${consumer}`)
  t.same([...documented].sort(), [...wired].sort())
})
