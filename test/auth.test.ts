import t from 'tap'
import { authHeaders, build, testApiKey } from './helper.js'

t.test('protected routes need a valid key', async (t) => {
  const { app } = await build(t, { beforeReady: (app) => { app.get('/api/protected', async () => ({ success: true, data: {} })) } })

  const missing = await app.inject({ method: 'GET', url: '/api/protected' })
  t.equal(missing.statusCode, 401)
  t.same(missing.json(), { success: false, message: 'API key tidak valid atau tidak ada', error: 'UNAUTHORIZED' })

  const wrong = await app.inject({ method: 'GET', url: '/api/protected', headers: { 'x-api-key': 'wrong-key-0123456789' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().error, 'UNAUTHORIZED')

  const almost = await app.inject({ method: 'GET', url: '/api/protected', headers: { 'x-api-key': testApiKey + 'x' } })
  t.equal(almost.statusCode, 401)

  const wrongBearer = await app.inject({ method: 'GET', url: '/api/protected', headers: { authorization: 'Bearer nope' } })
  t.equal(wrongBearer.statusCode, 401)

  const basic = await app.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `Basic ${testApiKey}` } })
  t.equal(basic.statusCode, 401, 'only the Bearer scheme carries a key')

  const viaHeader = await app.inject({ method: 'GET', url: '/api/protected', headers: authHeaders })
  t.equal(viaHeader.statusCode, 200)

  const viaBearer = await app.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `Bearer ${testApiKey}` } })
  t.equal(viaBearer.statusCode, 200)

  const viaLowercaseBearer = await app.inject({ method: 'GET', url: '/api/protected', headers: { authorization: `bearer ${testApiKey}` } })
  t.equal(viaLowercaseBearer.statusCode, 200)
})

t.test('any key of a comma-separated list works', async (t) => {
  const { app } = await build(t, {
    env: { API_KEY: 'first-key-0123456789,second-key-0123456789' },
    beforeReady: (app) => { app.get('/api/protected', async () => ({ success: true, data: {} })) }
  })
  for (const key of ['first-key-0123456789', 'second-key-0123456789']) {
    const response = await app.inject({ method: 'GET', url: '/api/protected', headers: { 'x-api-key': key } })
    t.equal(response.statusCode, 200, key)
  }
  const old = await app.inject({ method: 'GET', url: '/api/protected', headers: authHeaders })
  t.equal(old.statusCode, 401)
})

t.test('public routes answer without a key', async (t) => {
  const { app } = await build(t)
  for (const url of ['/', '/api/health', '/docs', '/docs/json', '/docs/static/index.html']) {
    const response = await app.inject({ method: 'GET', url })
    t.ok(response.statusCode < 400, `${url} answered ${response.statusCode}`)
  }
})

t.test('unknown routes do not reveal themselves without a key', async (t) => {
  const { app } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/api/nothing-here' })
  t.equal(response.statusCode, 401)
})

t.test('without API_KEY the service is open on loopback and says so in the log', async (t) => {
  const { app, readAppLog } = await build(t, {
    env: { API_KEY: '' },
    beforeReady: (app) => { app.get('/api/protected', async () => ({ success: true, data: {} })) }
  })
  const response = await app.inject({ method: 'GET', url: '/api/protected' })
  t.equal(response.statusCode, 200)
  t.match(await readAppLog(), /API_KEY is not set/)
})

t.test('every credential sent must be valid, in either header', async (t) => {
  const { app } = await build(t, { beforeReady: (app) => { app.get('/api/protected', async () => ({ success: true, data: {} })) } })
  const call = async (headers: Record<string, string>) => (await app.inject({ method: 'GET', url: '/api/protected', headers })).statusCode
  t.equal(await call({ 'x-api-key': testApiKey, authorization: 'Bearer wrong-key-0123456789' }), 401, 'valid X-API-Key, wrong Bearer')
  t.equal(await call({ 'x-api-key': 'wrong-key-0123456789', authorization: `Bearer ${testApiKey}` }), 401, 'wrong X-API-Key, valid Bearer')
  t.equal(await call({ 'x-api-key': testApiKey, authorization: 'Bearer ' }), 401, 'an empty Bearer is a wrong credential too')
  t.equal(await call({ 'x-api-key': testApiKey, authorization: `Bearer ${testApiKey}` }), 200, 'both valid')
  t.equal(await call({ 'x-api-key': testApiKey, authorization: 'Basic dXNlcjpwYXNz' }), 200, "a proxy's Basic login is not a key of ours")
})
