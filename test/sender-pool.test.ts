import { pino } from 'pino'
import t from 'tap'
import { wireEvents } from '../plugins/event-wiring.js'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'
import { createProducers, idleConsumers } from './helpers/event-producers.js'
import { startWebhookReceiver } from './helpers/webhook-receiver.js'

// End to end on the simulator: three linked accounts, one of them restricted (463 for new chats).
const receiver = await startWebhookReceiver(t)
const { app, simulator } = await buildWithSimulator(t, { env: { WEBHOOK_URL: receiver.url, OTP_COOLDOWN_SECONDS: '0', OTP_INBOUND_REPLY: 'Terverifikasi' } })
const accounts = { first: '6281200000911', second: '6281200000912' }
await linkSession(app, simulator, 'first', accounts.first)
await linkSession(app, simulator, 'second', accounts.second)

let nextRecipient = 6281391000001
function newRecipient (): string {
  const phone = String(nextRecipient++)
  simulator.addContact(phone)
  return phone
}

const post = async (url: string, payload: Record<string, unknown>) => await app.inject({ method: 'POST', url, headers: authHeaders, payload })
const getVerification = async (id: string) => await app.inject({ method: 'GET', url: `/api/otp/verifications/${id}`, headers: authHeaders })

async function codeAt (phone: string): Promise<string> {
  const text = (await simulator.nextMessage(phone)).text ?? ''
  return /: (\d+)\n/.exec(text)?.[1] ?? ''
}

t.test('the pool routes around a restricted sender and prefers one that already chats', async (t) => {
  // 'first' learns it is restricted the hard way: the pool's first pick is refused, the next takes it.
  simulator.restrictAccount(accounts.first, { notify: false })
  t.teardown(() => simulator.liftRestriction(accounts.first, { notify: false }))
  const phones = [newRecipient(), newRecipient()]
  const senders: string[] = []
  for (const phone of phones) {
    const response = await post('/api/otp/send', { to: phone })
    t.equal(response.statusCode, 200, response.body)
    senders.push(response.json().data.sessionId)
    t.match(await codeAt(phone), /^\d{6}$/)
  }
  t.same(senders, ['second', 'second'], 'the restricted account is skipped once it was refused')
  t.equal(simulator.refusedMessages, 1, 'refused once, not retried on the same sender')

  // A number that wrote to the restricted account first gets its code from that account.
  const wroteFirst = newRecipient()
  await simulator.sendText(wroteFirst, accounts.first, 'halo')
  await receiver.waitFor((request) => request.event === 'message.received' && request.sessionId === 'first')
  const response = await post('/api/otp/send', { to: wroteFirst })
  t.equal(response.json().data.sessionId, 'first', response.body)
  t.match(await codeAt(wroteFirst), /^\d{6}$/)

  t.test('both restricted: 503 NO_SENDER_AVAILABLE with Retry-After', async (t) => {
    const until = new Date(Math.ceil(Date.now() / 1000 + 300) * 1000)
    const restricted = receiver.waitFor((request) => request.event === 'session.restricted' && request.sessionId === 'second' && request.data.until === until.toISOString())
    simulator.restrictAccount(accounts.second, { until })
    await restricted
    t.teardown(() => simulator.liftRestriction(accounts.second))
    const refused = await post('/api/otp/send', { to: newRecipient() })
    t.equal(refused.statusCode, 503, refused.body)
    t.equal(refused.json().error, 'NO_SENDER_AVAILABLE')
    t.ok(Number(refused.headers['retry-after']) > 0)
  })
})

t.test('an OTP is a verification: pending, approved by the right code, canceled by DELETE', async (t) => {
  const phone = newRecipient()
  const sent = await post('/api/messages/second/otp', { to: phone })
  t.equal(sent.statusCode, 200, sent.body)
  const { verificationId } = sent.json().data
  const code = await codeAt(phone)
  t.match((await getVerification(verificationId)).json().data, { verificationId, to: phone, method: 'outbound', status: 'pending', sessionId: 'second' })
  t.equal((await post('/api/otp/verify', { to: phone, code })).statusCode, 200)
  t.match((await getVerification(verificationId)).json().data, { status: 'approved', phone })

  const again = await post('/api/messages/second/otp', { to: phone })
  const second = again.json().data.verificationId
  const secondCode = await codeAt(phone)
  const deleted = await app.inject({ method: 'DELETE', url: `/api/otp/verifications/${second}`, headers: authHeaders })
  t.equal(deleted.json().data.status, 'canceled')
  t.equal((await post('/api/otp/verify', { to: phone, code: secondCode })).json().error, 'OTP_NOT_FOUND', 'a canceled code does not verify')

  const missing = await getVerification('00000000-0000-0000-0000-000000000000')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error, 'VERIFICATION_NOT_FOUND')
})

// Every delivery published so far has reached the receiver.
async function webhooksSettled (): Promise<void> {
  for (;;) {
    const stats = (await app.inject({ method: 'GET', url: '/api/webhook/stats', headers: authHeaders })).json().data
    if (stats.pending === 0) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('a pool OTP verified with POST /api/otp/verify fires otp.verified once, with method "outbound" and its verificationId', async (t) => {
  const phone = newRecipient()
  const sent = await post('/api/otp/send', { to: phone })
  t.equal(sent.statusCode, 200, sent.body)
  const { verificationId, sessionId } = sent.json().data
  const code = await codeAt(phone)
  t.equal((await post('/api/otp/verify', { to: phone, code })).statusCode, 200)
  const verified = await receiver.waitFor((request) => request.event === 'otp.verified' && request.data.to === phone)
  t.equal(verified.sessionId, sessionId, 'the session that sent the code')
  t.same(verified.data, { to: phone, method: 'outbound', verificationId, at: verified.data.at })
  await webhooksSettled()
  t.equal(receiver.requests.filter((request) => request.event === 'otp.verified' && request.data.to === phone).length, 1, 'once')
})

t.test('inbound verification: approved by the code from the right number only, including a LID sender', async (t) => {
  const user = newRecipient()
  const stranger = newRecipient()
  const started = await post('/api/otp/inbound', { to: user, sessionId: 'first' })
  t.equal(started.statusCode, 200, started.body)
  const { verificationId, code, text, waLink, sessionId } = started.json().data
  t.equal(sessionId, 'first')
  t.equal(waLink, `https://wa.me/${accounts.first}?text=${encodeURIComponent(text)}`)
  t.ok(text.includes(code))

  await simulator.sendText(stranger, accounts.first, text)
  await receiver.waitFor((request) => request.event === 'message.received' && request.data.text === text)
  t.equal((await getVerification(verificationId)).json().data.status, 'pending', 'the same text from another number does not approve it')

  const verified = receiver.waitFor((request) => request.event === 'otp.verified' && request.data.verificationId === verificationId)
  // Addressed by LID, with the alternate PN WhatsApp adds to 1:1 stanzas.
  await simulator.sendText(user, accounts.first, text, { addressing: 'lid', alternateAddress: true })
  t.match((await verified).data, { to: user, method: 'inbound', verificationId })
  t.match((await getVerification(verificationId)).json().data, { status: 'approved', phone: user, method: 'inbound' })
  t.equal((await simulator.nextMessage(user)).text, 'Terverifikasi', 'a short reply confirms')

  t.test('a LID sender that cannot be resolved does not approve a verification naming a number', async (t) => {
    const other = newRecipient()
    const pending = (await post('/api/otp/inbound', { to: other, sessionId: 'second' })).json().data
    await simulator.sendText(other, accounts.second, pending.text, { addressing: 'lid' })
    await receiver.waitFor((request) => request.event === 'message.received' && request.data.text === pending.text)
    t.equal((await getVerification(pending.verificationId)).json().data.status, 'pending')
  })

  t.test('expiresIn sets its end (the expiry itself: test/verifications.test.ts)', async (t) => {
    const short = (await post('/api/otp/inbound', { to: newRecipient(), sessionId: 'first', expiresIn: 30 })).json().data
    t.equal((await getVerification(short.verificationId)).json().data.status, 'pending')
    t.equal(Date.parse(short.expiresAt) - Date.now() <= 30_000, true)
  })
})

t.test('after a restart the pool still picks the session that chats with the number (chats are in the state store)', async (t) => {
  const env = { OTP_COOLDOWN_SECONDS: '0' }
  const first = await buildWithSimulator(t, { env })
  const { simulator } = first
  const phones = { alpha: '6281200000921', beta: '6281200000922' }
  await linkSession(first.app, simulator, 'alpha', phones.alpha)
  await linkSession(first.app, simulator, 'beta', phones.beta)
  const [wroteAlpha, wroteBeta, alsoWroteBeta] = ['6281392000001', '6281392000002', '6281392000003'].map((phone) => simulator.addContact(phone).phone)
  for (const [contact, sessionId] of [[wroteAlpha, 'alpha'], [wroteBeta, 'beta'], [alsoWroteBeta, 'beta']] as const) {
    const received = nextSessionEvent(first.app, 'message-received', sessionId)
    await simulator.sendText(contact, phones[sessionId], 'halo')
    await received
  }
  await first.app.close()

  let restored: Promise<unknown> | undefined
  const second = await buildWithSimulator(t, {
    simulator,
    directory: first.directory,
    env,
    beforeReady: async (app) => {
      restored = Promise.all(['alpha', 'beta'].map(async (sessionId) => await nextSessionEvent(app, 'connected', sessionId)))
    }
  })
  await restored
  // Without what was remembered, least recent use would alternate between the two sessions.
  const senders: string[] = []
  for (const phone of [wroteBeta, alsoWroteBeta, wroteAlpha]) {
    const response = await second.app.inject({ method: 'POST', url: '/api/otp/send', headers: authHeaders, payload: { to: phone } })
    t.equal(response.statusCode, 200, response.body)
    senders.push(response.json().data.sessionId)
  }
  t.same(senders, ['beta', 'beta', 'alpha'])
})

// The order itself, on the pure factory: which chats hold the number's privacy token cannot be
// told apart on the simulator's account list alone, so the restrictions are given here.
t.test('order: the number wrote, unrestricted that wrote to it, other unrestricted by use, restricted that only wrote to it', async (t) => {
  const { createSenderPool } = await import('../plugins/sender-pool.js')
  const restricted = new Set(['restricted-contact', 'restricted-account', 'restricted-new'])
  const chats = new Map<string, 'contact' | 'account'>([
    ['restricted-contact', 'contact'],
    ['restricted-account', 'account'],
    ['free-account', 'account']
  ])
  const connected = ['restricted-new', 'restricted-account', 'free-new-1', 'free-account', 'free-new-2', 'restricted-contact']
  let now = 1000
  const pool = createSenderPool({
    sessions: { list: () => [...connected.map((sessionId) => ({ sessionId, isConnected: true })), { sessionId: 'offline', isConnected: false }] as never },
    restrictions: {
      describe: (sessionId) => restricted.has(sessionId) ? { newChats: 'blocked', reason: 'REFUSED_463', until: null } as never : null,
      sessionsChattingWith: async (phone, sessionIds) => new Map([...chats].filter(([sessionId]) => phone === '6281' && sessionIds.includes(sessionId)))
    },
    clock: () => now
  })
  t.same(await pool.candidates('6281'), ['restricted-contact', 'free-account', 'free-new-1', 'free-new-2', 'restricted-account'])
  t.same(await pool.candidates(null), ['free-new-1', 'free-account', 'free-new-2'], 'a number not known yet: unrestricted only')
  t.same(await pool.candidates('6281', { includeRestricted: true }), ['restricted-contact', 'restricted-account', 'free-account', 'restricted-new', 'free-new-1', 'free-new-2'],
    'a user-first verification: restricted ones count as any other')

  const tried: string[] = []
  await pool.send('6281', async (sessionId) => {
    tried.push(sessionId)
    if (sessionId !== 'free-new-1') throw Object.assign(new Error('refused'), { code: 'SENDER_RESTRICTED' })
    return 'sent'
  })
  t.same(tried, ['restricted-contact', 'free-account', 'free-new-1'], 'each refusal moves on to the next')
  now += 1000
  t.same(await pool.candidates('6289'), ['free-new-2', 'free-new-1', 'free-account'], 'another number: the one not used yet first')
})

// The pool remembered when each session was last picked and never forgot a removed one: one entry
// per session ever used, and a new account linked under a removed session's id started behind.
t.test('a removed session is forgotten: linked again under its id, it counts as not used yet', async (t) => {
  const { createSenderPool } = await import('../plugins/sender-pool.js')
  let now = 1000
  const pool = createSenderPool({
    sessions: { list: () => ['alpha', 'beta'].map((sessionId) => ({ sessionId, isConnected: true })) as never },
    restrictions: { describe: () => null, sessionsChattingWith: async () => new Map() },
    clock: () => now
  })
  const producers = createProducers()
  const wiring = wireEvents(producers, idleConsumers({ senderPool: pool }), pino({ level: 'silent' }))
  t.teardown(wiring.unwire)
  for (const phone of ['6281', '6282', '6283']) {
    now += 1000
    await pool.send(phone, async () => 'sent')
  }
  t.same(await pool.candidates(null), ['beta', 'alpha'], 'alpha was picked last')

  producers.sessions.emit('removed', { sessionId: 'alpha' })
  t.same(await pool.candidates(null), ['alpha', 'beta'], 'the alpha linked again has not been picked yet')

  // A session that moved to another instance (REDIS_URL) is forgotten the same way.
  now += 1000
  await pool.send('6284', async () => 'sent')
  t.same(await pool.candidates(null), ['beta', 'alpha'])
  producers.sessions.emit('left', { sessionId: 'alpha' })
  t.same(await pool.candidates(null), ['alpha', 'beta'], 'alpha taken back later has not been picked yet')

  // A send refused because its session moved meanwhile goes to the next sender.
  const tried: string[] = []
  const { sessionId } = await pool.send('6285', async (candidate) => {
    tried.push(candidate)
    if (candidate === 'alpha') throw Object.assign(new Error('moved'), { code: 'SESSION_HOLDER_UNAVAILABLE' })
    return 'sent'
  })
  t.same(tried, ['alpha', 'beta'])
  t.equal(sessionId, 'beta')
})

// With REDIS_URL the restrictions here know only this instance's sessions: another instance's
// restriction comes with its session, as its holder wrote it to the store.
t.test('a send ranks the cluster\'s sessions: a restriction written by another holder counts until it ends', async (t) => {
  const { createSenderPool } = await import('../plugins/sender-pool.js')
  const now = Date.parse('2026-11-30T00:00:00.000Z')
  const blocked = (until: string | null) => ({ newChats: 'blocked' as const, reason: 'BIZ_QUALITY', until })
  let remoteRestriction: ReturnType<typeof blocked> | null = blocked('2026-11-30T00:05:00.000Z')
  const pool = createSenderPool({
    sessions: { list: () => [{ sessionId: 'local', isConnected: false }] as never },
    clusterSessions: async () => [
      { sessionId: 'local', isConnected: false, restriction: null },
      { sessionId: 'remote', isConnected: true, restriction: remoteRestriction }
    ],
    restrictions: { describe: () => null, sessionsChattingWith: async () => new Map() },
    clock: () => now
  })
  await t.rejects(pool.send('6281', async () => 'sent'), { code: 'NO_SENDER_AVAILABLE', retryAfterSeconds: 300 }, 'restricted elsewhere: Retry-After is its end')
  remoteRestriction = blocked('2026-11-29T23:59:59.000Z')
  t.same(await pool.send('6281', async () => 'sent'), { sessionId: 'remote', result: 'sent' }, 'a restriction that has ended is no restriction')
  remoteRestriction = null
  t.same(await pool.send('6282', async () => 'sent'), { sessionId: 'remote', result: 'sent' })
})
