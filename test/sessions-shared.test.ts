// One instance with REDIS_URL (a real redis-server) and the simulator: what it keeps in the shared
// store for the other instances, and what a delete leaves behind there.
import { readdir } from 'node:fs/promises'
import t from 'tap'
import { StateStoreUnavailableError } from '../src/state/state-store.js'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'
import { startRedisServer } from './state/redis-server.js'

t.test('with REDIS_URL a linked session lives in the store (metadata, credentials, lease), and DELETE takes all of it away', async (t) => {
  const redis = await startRedisServer(t)
  const { app, simulator, config } = await buildWithSimulator(t, { env: { REDIS_URL: redis.url, OTP_SECRET: 'shared-otp-secret-of-the-cluster', SESSION_LEASE_MS: '3000', INSTANCE_ID: 'only' } })
  await app.ready()
  const store = app.stateStore
  await linkSession(app, simulator, 'shared', '6281500000040')

  // Written behind the state change, not inside it: awaited until it lands.
  let metadata = await store.sessions.get('shared')
  while (metadata?.status !== 'connected') {
    await new Promise((resolve) => setTimeout(resolve, 20))
    metadata = await store.sessions.get('shared')
  }
  t.match(metadata, { sessionId: 'shared', status: 'connected', linked: true, holder: 'only', user: { id: /^6281500000040/ } }, 'any instance can answer list and status from it')
  t.equal((await store.leases.holder('shared'))?.instanceId, 'only', 'the lease is held by the instance running the socket')
  t.ok(await store.authState.readCredentials('shared'), 'credentials are in the store')
  t.same((await readdir(config.authStateDirectory)).filter((name) => name === 'shared'), [], 'and no session folder on disk')

  const removed = await app.inject({ method: 'DELETE', url: '/api/sessions/shared', headers: authHeaders })
  t.equal(removed.statusCode, 200)
  t.equal(await store.sessions.get('shared'), undefined, 'no longer listed for the other instances')
  t.equal(await store.authState.readCredentials('shared'), undefined, 'credentials gone')
  t.equal(await store.leases.holder('shared'), undefined, 'lease released')
})

t.test('with REDIS_URL a session id held by another instance cannot be created again here', async (t) => {
  const redis = await startRedisServer(t)
  const { app } = await buildWithSimulator(t, { env: { REDIS_URL: redis.url, OTP_SECRET: 'shared-otp-secret-of-the-cluster', SESSION_LEASE_MS: '3000', INSTANCE_ID: 'here' } })
  await app.ready()
  await app.stateStore.sessions.update('elsewhere', () => ({ value: { sessionId: 'elsewhere', createdAt: new Date().toISOString(), user: null, linked: false, holder: 'there' }, result: null }))
  await app.stateStore.leases.acquire('elsewhere', 'there', 60_000)
  const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'elsewhere' } })
  t.equal(created.statusCode, 409)
  t.equal(created.json().error, 'SESSION_EXISTS')
})

// Redis too slow to renew the lease in time: the instance closes the socket, but the lease in Redis
// still names it until it runs out, so the router places the session's calls here. They reached the
// registry, which no longer had the session, and were answered 404 SESSION_NOT_FOUND.
t.test('with REDIS_URL a call for a session that just left this instance answers 503 SESSION_HOLDER_UNAVAILABLE with Retry-After, not 404', async (t) => {
  const redis = await startRedisServer(t)
  const { app, simulator } = await buildWithSimulator(t, { env: { REDIS_URL: redis.url, OTP_SECRET: 'shared-otp-secret-of-the-cluster', SESSION_LEASE_MS: '3000', INSTANCE_ID: 'only' } })
  await app.ready()
  const store = app.stateStore
  await linkSession(app, simulator, 'leaving', '6281500000041')

  const renew = store.leases.renew
  store.leases.renew = async () => { throw new StateStoreUnavailableError(new Error('timed out')) }
  t.teardown(() => { store.leases.renew = renew })
  await nextSessionEvent(app, 'left', 'leaving')
  t.equal((await store.leases.holder('leaving'))?.instanceId, 'only', 'the lease in Redis still names this instance: the router places the calls here')

  const sent = await app.inject({ method: 'POST', url: '/api/messages/leaving/text', headers: authHeaders, payload: { to: '6281500000042', message: 'halo' } })
  t.equal(sent.statusCode, 503)
  t.match(sent.json(), { success: false, error: 'SESSION_HOLDER_UNAVAILABLE' })
  t.equal(sent.headers['retry-after'], '3')
  const status = await app.inject({ method: 'GET', url: '/api/sessions/leaving/status', headers: authHeaders })
  t.equal(status.statusCode, 200, 'its status is read from the store')
  t.equal(status.json().data.sessionId, 'leaving')
})
