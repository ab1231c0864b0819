import { Agent, request as httpRequest } from 'node:http'
import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { createApiKeyAuth } from '../plugins/auth.js'
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

// A valid key is remembered so it is not hashed again: nothing else may be served from that memory.
t.test('a remembered valid key lets no other key through', async (t) => {
  const auth = createApiKeyAuth(['first-key-0123456789', 'second-key-0123456789'])
  const identify = (headers: Record<string, string>) => auth.identify({ headers } as unknown as FastifyRequest)
  const first = identify({ 'x-api-key': 'first-key-0123456789' })
  t.type(first, 'string')
  t.equal(identify({ 'x-api-key': 'first-key-0123456789' }), first, 'the same id the second time')
  t.equal(identify({ authorization: 'Bearer first-key-0123456789' }), first, 'the same key in the other header')
  t.not(identify({ 'x-api-key': 'second-key-0123456789' }), first, 'another key keeps its own id')
  for (const wrong of ['first-key-0123456789x', 'first-key-012345678', 'FIRST-KEY-0123456789', '']) {
    t.equal(identify({ 'x-api-key': wrong }), null, `${JSON.stringify(wrong)} refused`)
    t.equal(identify({ 'x-api-key': wrong }), null, `${JSON.stringify(wrong)} refused again`)
  }
  t.equal(identify({ 'x-api-key': 'first-key-0123456789', authorization: 'Bearer wrong-key-0123456789' }), null, 'a remembered key beside a wrong one')
  t.equal(identify({ 'x-api-key': 'first-key-0123456789' }), first, 'still valid after the wrong ones')

  // A key taken out of API_KEY (a restart with a new list) is refused by the new service.
  const afterRevoking = createApiKeyAuth(['second-key-0123456789'])
  t.equal(afterRevoking.identify({ headers: { 'x-api-key': 'first-key-0123456789' } } as unknown as FastifyRequest), null)
})

t.test('each request on one kept-alive connection is checked with its own key', async (t) => {
  const { app } = await build(t, { beforeReady: (app) => { app.get('/api/protected', async () => ({ success: true, data: {} })) } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const sockets = new Set<unknown>()
  const call = async (headers: Record<string, string>) => await new Promise<number>((resolve, reject) => {
    httpRequest({ agent, port, host: '127.0.0.1', path: '/api/protected', headers }, (response) => {
      sockets.add(response.socket)
      response.resume()
      response.on('end', () => { resolve(response.statusCode ?? 0) })
    }).on('error', reject).end()
  })
  t.equal(await call(authHeaders), 200)
  t.equal(await call({ 'x-api-key': 'wrong-key-0123456789' }), 401)
  t.equal(await call({}), 401)
  t.equal(await call({ authorization: `Bearer ${testApiKey}` }), 200)
  t.equal(await call({ 'x-api-key': `${testApiKey}x` }), 401)
  t.equal(sockets.size, 1, 'all on one connection')
})
