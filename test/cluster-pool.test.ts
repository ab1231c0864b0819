// POST /api/otp/send on an instance that holds no session: the pool picks among the cluster's
// sessions and the send runs on the holder of the one it picked. A restriction the holder learned
// reaches the other instances' pools through the session's metadata in the store.
import t from 'tap'
import { call, codeAt as codeAtOf, connectedOn, link, recipients, startCluster, until, type Instance } from './helpers/cluster.js'

const cluster = await startCluster(t)
const { simulator, store } = cluster
const [a, b] = await Promise.all(['a', 'b'].map(async (id) => await cluster.start(id))) as [Instance, Instance]
const account = '6281720000001'
await link(cluster, a, 'shop', account)
const holder = await until('shop connected on its holder', async () => await connectedOn(store, 'shop'))
// The instance without the session: every pool send made through it runs on the other one.
const [elsewhere] = [a, b].filter((instance) => instance.id !== holder) as [Instance]

const newRecipient = recipients(simulator, 6281730000001)
const codeAt = async (phone: string): Promise<string> => await codeAtOf(simulator, phone)

t.test('an instance holding no session sends a pool OTP through the holder of one', async (t) => {
  const phone = newRecipient()
  const sent = await call(elsewhere.base, 'POST', '/api/otp/send', { to: phone })
  t.equal(sent.status, 200, JSON.stringify(sent.body))
  t.match(sent.body, { success: true, message: 'OTP berhasil dikirim', data: { sessionId: 'shop', to: phone, messageId: String, verificationId: String } })
  const code = await codeAt(phone)
  const verified = await call(elsewhere.base, 'POST', '/api/otp/verify', { to: phone, code })
  t.equal(verified.status, 200, 'verified')

  // The holder's error is the answer, as that instance gave it: a second code is in cooldown.
  const again = await call(elsewhere.base, 'POST', '/api/otp/send', { to: phone })
  t.equal(again.status, 429, JSON.stringify(again.body))
  t.match(again.body, { success: false, error: 'OTP_COOLDOWN', message: /^OTP untuk nomor ini baru saja dikirim, tunggu \d+ detik/, retryAfter: Number })
  t.equal(again.headers.get('retry-after'), String(again.body.retryAfter), 'with Retry-After')
  t.same(simulator.pendingMessages(phone), [], 'one message only')
})

t.test('a restriction the holder learned keeps the other instances\' pools off the account until it ends', async (t) => {
  const until_ = new Date(Math.ceil(Date.now() / 1000 + 300) * 1000)
  simulator.restrictAccount(account, { until: until_ })
  await until('the restriction in the session\'s metadata', async () => (await store.sessions.get('shop'))?.restriction?.until === until_.toISOString() ? true : undefined)
  const listed = await call(elsewhere.base, 'GET', '/api/sessions')
  t.match(listed.body.data.sessions.shop, { restriction: { newChats: 'blocked', until: until_.toISOString() } }, 'the list on the other instance shows it')

  const refusedBefore = simulator.refusedMessages
  const refused = await call(elsewhere.base, 'POST', '/api/otp/send', { to: newRecipient() })
  t.equal(refused.status, 503, JSON.stringify(refused.body))
  t.equal(refused.body.error, 'NO_SENDER_AVAILABLE')
  const retryAfter = Number(refused.headers.get('retry-after'))
  t.ok(retryAfter > 250 && retryAfter <= 301, `Retry-After is when the restriction ends (${retryAfter})`)
  t.equal(simulator.refusedMessages, refusedBefore, 'the restricted account was never tried: WhatsApp refused nothing')

  simulator.liftRestriction(account)
  await until('the restriction gone from the metadata', async () => (await store.sessions.get('shop'))?.restriction === null ? true : undefined)
  const phone = newRecipient()
  const sent = await call(elsewhere.base, 'POST', '/api/otp/send', { to: phone })
  t.equal(sent.status, 200, JSON.stringify(sent.body))
  t.match(await codeAt(phone), /^\d{6}$/)
})

t.test('a holder that cannot be reached is skipped like a disconnected sender', async (t) => {
  const holderInstance = [a, b].find((instance) => instance.id === holder)!
  // Its lease and heartbeat stay in the store until they run out: the pool still picks it.
  holderInstance.process.child.kill('SIGKILL')
  const refused = await call(elsewhere.base, 'POST', '/api/otp/send', { to: newRecipient() })
  t.equal(refused.status, 503, JSON.stringify(refused.body))
  t.match(refused.body, { error: 'NO_SENDER_AVAILABLE', retryAfter: 60 }, 'no sender left once the holder did not answer')
  await until('it was tried', async () => /the session's holder did not answer/.test(elsewhere.process.output()) ? true : undefined)
})
