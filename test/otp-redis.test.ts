// The OTP routes with REDIS_URL set: records live in Redis, so two instances (two apps here, each
// with its own folders, sharing only Redis) answer as one service.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'
import { startSimulator, type WhatsAppSimulator } from './sim/index.js'
import { startRedisServer } from './state/redis-server.js'

const redis = await startRedisServer(t)
const simulator = await startSimulator()
t.teardown(() => simulator.stop())
const env = { REDIS_URL: redis.url, OTP_SECRET: 'shared-secret-of-the-cluster-0123' }
const { app: first } = await buildWithSimulator(t, { simulator, env: { ...env, INSTANCE_ID: 'first' } })
const { app: second } = await buildWithSimulator(t, { simulator, env: { ...env, INSTANCE_ID: 'second' } })
await linkSession(first, simulator, 'first', '6281300000011')
await linkSession(second, simulator, 'second', '6281300000012')

let nextRecipient = 6281320000001
function newRecipient (target: WhatsAppSimulator = simulator): string {
  const phone = String(nextRecipient++)
  target.addContact(phone)
  return phone
}

async function sendOtp (app: FastifyInstance, sessionId: string, to: string) {
  return await app.inject({ method: 'POST', url: `/api/messages/${sessionId}/otp`, headers: authHeaders, payload: { to } })
}

async function verifyOtp (app: FastifyInstance, to: string, code: string) {
  return await app.inject({ method: 'POST', url: '/api/otp/verify', headers: authHeaders, payload: { to, code } })
}

async function codeAt (phone: string): Promise<string> {
  const text = (await simulator.nextMessage(phone)).text ?? ''
  const code = /: (\d+)\n/.exec(text)?.[1]
  if (code === undefined) throw new Error(`no code in ${JSON.stringify(text)}`)
  return code
}

function wrongCodeFor (code: string): string {
  return code === '000000' ? '111111' : '000000'
}

t.test('a code sent through one instance verifies through the other, exactly once', async (t) => {
  const phone = newRecipient()
  t.equal((await sendOtp(first, 'first', phone)).statusCode, 200)
  const code = await codeAt(phone)
  const verified = await verifyOtp(second, phone, code)
  t.equal(verified.statusCode, 200, verified.body)
  t.same(verified.json(), { success: true, message: 'Kode OTP valid', data: { verified: true, to: phone } })
  t.match((await verifyOtp(first, phone, code)).json(), { error: 'OTP_NOT_FOUND' }, 'spent for both')
})

t.test('the cooldown holds across instances', async (t) => {
  const phone = newRecipient()
  t.equal((await sendOtp(first, 'first', phone)).statusCode, 200)
  const again = await sendOtp(second, 'second', phone)
  t.equal(again.statusCode, 429)
  t.match(again.json(), { error: 'OTP_COOLDOWN' })
  t.ok(Number(again.headers['retry-after']) > 55)
  await codeAt(phone)
  t.same(simulator.pendingMessages(phone), [], 'one message only')
})

t.test('wrong codes count down on both instances to a void code', async (t) => {
  const phone = newRecipient()
  t.equal((await sendOtp(second, 'second', phone)).statusCode, 200)
  const code = await codeAt(phone)
  const wrong = wrongCodeFor(code)
  const answers = []
  for (let attempt = 0; attempt < 5; attempt++) answers.push((await verifyOtp(attempt % 2 === 0 ? first : second, phone, wrong)).json())
  t.match(answers, [
    { error: 'OTP_INVALID', attemptsLeft: 4 },
    { error: 'OTP_INVALID', attemptsLeft: 3 },
    { error: 'OTP_INVALID', attemptsLeft: 2 },
    { error: 'OTP_INVALID', attemptsLeft: 1 },
    { error: 'OTP_TOO_MANY_ATTEMPTS' }
  ])
  t.equal((await verifyOtp(first, phone, code)).statusCode, 429, 'the right code no longer works either')
})

t.test('one code verified at the same moment on both instances succeeds once', async (t) => {
  const phone = newRecipient()
  t.equal((await sendOtp(first, 'first', phone)).statusCode, 200)
  const code = await codeAt(phone)
  const answers = await Promise.all([first, second, first, second].map(async (app) => (await verifyOtp(app, phone, code)).statusCode))
  t.same(answers.sort(), [200, 404, 404, 404])
})

t.test('a verification canceled on one instance: its code, right or wrong, is 404 on the other', async (t) => {
  const phone = newRecipient()
  const sent = await sendOtp(first, 'first', phone)
  t.equal(sent.statusCode, 200, sent.body)
  const code = await codeAt(phone)
  const canceled = await first.inject({ method: 'DELETE', url: `/api/otp/verifications/${sent.json().data.verificationId}`, headers: authHeaders })
  t.equal(canceled.json().data.status, 'canceled', canceled.body)
  const notFound = { success: false, message: 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru', error: 'OTP_NOT_FOUND' }
  for (const tried of [wrongCodeFor(code), code]) {
    const response = await verifyOtp(second, phone, tried)
    t.equal(response.statusCode, 404)
    t.same(response.json(), notFound)
  }
})

t.test('Redis down: 503 STATE_STORE_UNAVAILABLE and health degraded; back to normal when it returns', async (t) => {
  const phone = newRecipient()
  await redis.stop()
  const verify = await verifyOtp(first, phone, '123456')
  t.equal(verify.statusCode, 503)
  t.equal(verify.headers['retry-after'], '5')
  t.same(verify.json(), { success: false, message: 'Penyimpanan state (Redis) tidak dapat dihubungi, coba lagi sebentar', error: 'STATE_STORE_UNAVAILABLE', retryAfter: 5 })
  t.match((await sendOtp(second, 'second', phone)).json(), { error: 'STATE_STORE_UNAVAILABLE' })
  t.same(simulator.pendingMessages(phone), [], 'nothing sent without a record of it')
  const health = (await first.inject({ method: 'GET', url: '/api/health' })).json()
  t.match(health.data, { status: 'degraded', checks: { stateStore: { status: 'degraded', kind: 'redis' } } })

  await redis.start()
  // The client reconnects on its own schedule; health says when.
  while ((await first.inject({ method: 'GET', url: '/api/health' })).json().data.checks.stateStore.status !== 'ok') await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal((await verifyOtp(first, phone, '123456')).statusCode, 404, 'answers again (the restarted Redis kept nothing, as configured)')
})

t.test('OTP_SECRET is required with REDIS_URL', async (t) => {
  const { loadConfig } = await import('../src/config.js')
  t.throws(() => loadConfig({ API_KEY: 'a-key-of-sixteen-characters', REDIS_URL: redis.url }), /OTP_SECRET must be set to the same secret/)
})
