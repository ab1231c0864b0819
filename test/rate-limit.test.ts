import t from 'tap'
import { authHeaders, build } from './helper.js'

t.test('a flood meets 429 in the envelope with Retry-After', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '1 minute' } })
  const statuses: number[] = []
  for (let index = 0; index < 8; index++) {
    statuses.push((await app.inject({ method: 'GET', url: '/api/health', headers: authHeaders })).statusCode)
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429, 429])
  const limited = await app.inject({ method: 'GET', url: '/api/health', headers: authHeaders })
  t.equal(limited.statusCode, 429)
  const body = limited.json()
  t.equal(body.success, false)
  t.equal(body.error, 'RATE_LIMITED')
  t.match(body.message, /^Terlalu banyak permintaan, coba lagi dalam \d+ detik$/)
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60)
  t.equal(body.retryAfter, Number(limited.headers['retry-after']))
})

t.test('each API key has its own bucket; anonymous callers are counted per IP', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2', API_KEY: 'first-key-0123456789,second-key-0123456789' } })
  const call = async (headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    (await app.inject({ method: 'GET', url: '/api/health', headers, remoteAddress })).statusCode
  t.same([await call({ 'x-api-key': 'first-key-0123456789' }), await call({ 'x-api-key': 'first-key-0123456789' }), await call({ 'x-api-key': 'first-key-0123456789' })], [200, 200, 429])
  t.equal(await call({ 'x-api-key': 'second-key-0123456789' }), 200, 'another key is not starved')
  t.same([await call({}), await call({}), await call({})], [200, 200, 429])
  t.equal(await call({}, '127.0.0.9'), 200, 'another IP is not starved')
  t.equal(await call({ 'x-api-key': 'made-up-key-0123456789' }), 429, 'an invalid key counts against the IP, so inventing keys does not escape the limit')
})

t.test('TRUST_PROXY makes the client IP come from X-Forwarded-For', async (t) => {
  const behindProxy = await build(t, { env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: 'true', API_KEY: '' } })
  const call = async (app: typeof behindProxy.app, forwardedFor: string) =>
    (await app.inject({ method: 'GET', url: '/api/health', headers: { 'x-forwarded-for': forwardedFor } })).statusCode
  t.equal(await call(behindProxy.app, '203.0.113.1'), 200)
  t.equal(await call(behindProxy.app, '203.0.113.2'), 200, 'a second client behind the proxy has its own bucket')
  t.equal(await call(behindProxy.app, '203.0.113.1'), 429)

  const direct = await build(t, { env: { RATE_LIMIT_MAX: '1', API_KEY: '' } })
  t.equal(await call(direct.app, '203.0.113.1'), 200)
  t.equal(await call(direct.app, '203.0.113.2'), 429, 'without TRUST_PROXY the header is ignored: both share the proxy IP')
})

t.test('trying wrong keys meets 429 per client IP, with Retry-After and the envelope', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '1 minute' } })
  const statuses: number[] = []
  let last = await app.inject({ method: 'GET', url: '/api/sessions' })
  for (let index = 0; index < 20; index++) {
    last = await app.inject({ method: 'GET', url: '/api/sessions', headers: { 'x-api-key': `guessed-key-${index}-0123456789` } })
    statuses.push(last.statusCode)
  }
  t.same(statuses.slice(0, 4), [401, 401, 401, 401])
  t.same(statuses.slice(4), new Array(16).fill(429), 'after the limit every guess is refused before its key is checked')
  t.equal(last.json().error, 'RATE_LIMITED')
  t.equal(last.json().success, false)
  t.ok(Number(last.headers['retry-after']) > 0)
  t.match(last.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  const otherClient = await app.inject({ method: 'GET', url: '/api/sessions', headers: { 'x-api-key': 'guessed-key-0123456789' }, remoteAddress: '127.0.0.9' })
  t.equal(otherClient.statusCode, 401, 'another IP still gets its own answer')
  const rightKey = await app.inject({ method: 'GET', url: '/api/sessions', headers: authHeaders })
  t.equal(rightKey.statusCode, 200, 'the valid key has its own bucket, even from the flooding IP')
})

t.test('unknown paths are limited too, per IP without a key and per key with one', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '3' } })
  const anonymous: number[] = []
  const withKey: number[] = []
  for (let index = 0; index < 5; index++) {
    anonymous.push((await app.inject({ method: 'GET', url: `/no/such/path/${index}` })).statusCode)
    withKey.push((await app.inject({ method: 'GET', url: `/api/no-such-path/${index}`, headers: authHeaders })).statusCode)
  }
  t.same(anonymous, [401, 401, 401, 429, 429])
  t.same(withKey, [404, 404, 404, 429, 429])
})
