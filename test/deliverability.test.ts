import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { keyFileName } from '../src/auth-state-files.js'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'
import { startWebhookReceiver } from './helpers/webhook-receiver.js'

// End to end on the simulator: the real Baileys, a restricted account refused with 463.
const receiver = await startWebhookReceiver(t)
const { app, simulator, config } = await buildWithSimulator(t, { env: { WEBHOOK_URL: receiver.url } })
const account = '6281200000901'
await linkSession(app, simulator, 'restricted', account)

let nextRecipient = 6281390000001
function newRecipient (): string {
  const phone = String(nextRecipient++)
  simulator.addContact(phone)
  return phone
}

t.test('a refused OTP is a 503 SENDER_RESTRICTED: no valid code, no cooldown spent', async (t) => {
  const phone = newRecipient()
  const until = new Date(Math.ceil(Date.now() / 1000 + 600) * 1000)
  simulator.restrictAccount(account, { until, enforcementType: 'BIZ_QUALITY', notify: false })
  t.teardown(() => simulator.liftRestriction(account, { notify: false }))
  const refused = simulator.waitFor('message-refused')

  const response = await app.inject({ method: 'POST', url: '/api/messages/restricted/otp', headers: authHeaders, payload: { to: phone } })
  t.equal(response.statusCode, 503, response.body)
  t.equal(response.json().error, 'SENDER_RESTRICTED')
  const retryAfter = Number(response.headers['retry-after'])
  // The end is on a whole second up to one second past now + 600 s.
  t.ok(retryAfter > 590 && retryAfter <= 601, `Retry-After ${retryAfter} runs to the end WhatsApp announced`)
  await refused
  t.equal(simulator.refusedMessages, 1, 'refused once, never retried')
  t.same(simulator.pendingMessages(phone), [])

  const verify = await app.inject({ method: 'POST', url: '/api/otp/verify', headers: authHeaders, payload: { to: phone, code: '123456' } })
  t.equal(verify.json().error, 'OTP_NOT_FOUND', 'no code became valid')

  // Lifted: the same number gets a code at once, so no cooldown was spent.
  simulator.liftRestriction(account, { notify: false })
  const again = await app.inject({ method: 'POST', url: '/api/messages/restricted/otp', headers: authHeaders, payload: { to: phone } })
  t.equal(again.statusCode, 200, again.body)
  t.match((await simulator.nextMessage(phone)).text, /\d{6}/)
  t.equal(simulator.refusedMessages, 1)
})

async function sessionRestriction (sessionId: string): Promise<unknown> {
  const response = await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/status`, headers: authHeaders })
  return response.json().data.restriction
}

async function metric (name: string): Promise<string> {
  const text = (await app.inject({ method: 'GET', url: '/metrics', headers: authHeaders })).body
  return text.split('\n').filter((line) => line.startsWith(name)).join('\n')
}

t.test('a restriction shows in the status, as a webhook and a metric, and lifts', async (t) => {
  t.equal(await sessionRestriction('restricted'), null)
  const until = new Date(Math.ceil(Date.now() / 1000 + 3600) * 1000)
  const before = new Set(receiver.requests)
  const restrictedHook = receiver.waitFor((request) => !before.has(request) && request.event === 'session.restricted' && request.sessionId === 'restricted')
  simulator.restrictAccount(account, { until, enforcementType: 'BIZ_QUALITY' })
  const hook = await restrictedHook
  t.same(hook.data, { newChats: 'blocked', until: until.toISOString(), reason: 'BIZ_QUALITY' })
  t.same(await sessionRestriction('restricted'), { newChats: 'blocked', until: until.toISOString(), reason: 'BIZ_QUALITY' })
  t.match(await metric('sessions_restricted '), 'sessions_restricted 1')

  t.test('existing chats still go out through the restricted sender', async (t) => {
    const wroteFirst = newRecipient()
    await simulator.sendText(wroteFirst, account, 'halo')
    await receiver.waitFor((request) => request.event === 'message.received' && request.data.from !== undefined && String(request.data.text) === 'halo')
    const response = await app.inject({ method: 'POST', url: '/api/messages/restricted/text', headers: authHeaders, payload: { to: wroteFirst, message: 'masih bisa' } })
    t.equal(response.statusCode, 200, response.body)
    t.equal((await simulator.nextMessage(wroteFirst)).text, 'masih bisa')
  })

  t.test('lifted when WhatsApp says so', async (t) => {
    const earlier = new Set(receiver.requests)
    const liftedHook = receiver.waitFor((request) => !earlier.has(request) && request.event === 'session.restriction_lifted' && request.sessionId === 'restricted')
    simulator.liftRestriction(account)
    await liftedHook
    t.equal(await sessionRestriction('restricted'), null)
    t.match(await metric('sessions_restricted '), 'sessions_restricted 0')
    t.match(await metric('session_restriction_changes_total'), 'change="lifted"')
  })

  t.test('lifted when the announced end passes, without a notification', async (t) => {
    const earlier = new Set(receiver.requests)
    const restrictedHook = receiver.waitFor((request) => !earlier.has(request) && request.event === 'session.restricted')
    simulator.restrictAccount(account, { until: new Date(Math.ceil(Date.now() / 1000 + 2) * 1000) })
    await restrictedHook
    t.ok(await sessionRestriction('restricted'))
    await receiver.waitFor((request) => !earlier.has(request) && request.event === 'session.restriction_lifted')
    t.equal(await sessionRestriction('restricted'), null)
    simulator.liftRestriction(account, { notify: false })
  })
})

t.test('the initial bootstrap of history is processed (privacy tokens of existing chats), without the 20 s wait', async (t) => {
  // Baileys records a processed history notification in the credentials; nothing else says so.
  const credentialsFile = join(config.authStateDirectory, 'restricted', 'creds.json')
  let processed: unknown[] = []
  for (let polls = 0; processed.length === 0 && polls < 100; polls++) {
    processed = (JSON.parse(await readFile(credentialsFile, 'utf8')) as { processedHistoryMessages?: unknown[] }).processedHistoryMessages ?? []
    if (processed.length === 0) await delay(50)
  }
  t.equal(processed.length, 1)
  t.equal(simulator.initialHistorySyncs, 1)
})

t.test('privacy tokens end to end: a chat the phone had before linking (bootstrap history) still gets an OTP while restricted, a new number does not', async (t) => {
  const phone = '6281200000902'
  // The customer wrote to the business number from the phone before this device was linked:
  // the phone holds the customer's privacy token, and its INITIAL_BOOTSTRAP history carries it.
  const customer = simulator.addContact('6281399000001')
  simulator.issuePrivacyToken(phone, customer.phone)
  await linkSession(app, simulator, 'bootstrap', phone)
  // Baileys keeps the token under the customer's LID (storeTcTokensFromHistorySync), in the
  // session's tctoken key file (one per key); nothing else tells when it is there.
  const tokenFile = join(config.authStateDirectory, 'bootstrap', 'keys', keyFileName('tctoken', customer.lid))
  let stored: unknown
  for (let polls = 0; stored === undefined && polls < 200; polls++) {
    stored = JSON.parse(await readFile(tokenFile, 'utf8').catch(() => 'null')) ?? undefined
    if (stored === undefined) await delay(50)
  }
  t.ok(stored, 'the bootstrap history\'s token is in the key store')

  // WhatsApp restricts the account without telling the device: only the tokens decide.
  simulator.restrictAccount(phone, { notify: false })
  t.teardown(() => simulator.liftRestriction(phone, { notify: false }))
  const accepted = simulator.waitFor('token-accepted', ({ to }) => to === customer.phone)
  const delivered = await app.inject({ method: 'POST', url: '/api/messages/bootstrap/otp', headers: authHeaders, payload: { to: customer.phone } })
  t.equal(delivered.statusCode, 200, delivered.body)
  await accepted
  t.match((await simulator.nextMessage(customer.phone)).text, /\d{6}/)

  const refusedBefore = simulator.refusedMessages
  const stranger = newRecipient()
  const refused = await app.inject({ method: 'POST', url: '/api/messages/bootstrap/otp', headers: authHeaders, payload: { to: stranger } })
  t.equal(refused.statusCode, 503, refused.body)
  t.equal(refused.json().error, 'SENDER_RESTRICTED')
  t.equal(simulator.refusedMessages, refusedBefore + 1)
  t.same(simulator.pendingMessages(stranger), [])
})
