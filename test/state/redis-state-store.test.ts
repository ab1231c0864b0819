import t from 'tap'
import { setTimeout as delay } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { openRedisStateStore } from '../../src/state/redis-state-store.js'
import { InvalidStateKeyError, StateStoreUnavailableError } from '../../src/state/state-store.js'
import { stateStoreConformance } from './conformance.js'
import { startRedisServer } from './redis-server.js'

stateStoreConformance(t, async (t) => {
  const server = await startRedisServer(t)
  return {
    open: async () => {
      const store = await openRedisStateStore({ url: server.url })
      t.teardown(() => store.close())
      return store
    },
    now: Date.now,
    // Redis expires keys on its own clock: the time has to pass for real.
    advance: async (milliseconds) => { await delay(milliseconds) },
    // Real time on a shared machine: long enough that two calls in a row never outlive it.
    shortTtlMs: 600
  }
})

t.test('Redis unreachable: calls fail at once with StateStoreUnavailableError, and work again when it is back', async (t) => {
  const server = await startRedisServer(t)
  const store = await openRedisStateStore({ url: server.url, keyPrefix: 'outage:' })
  t.teardown(() => store.close())
  const otp = store.records<number>('otp')
  await otp.update('6281', () => ({ value: 1, result: null }))

  await server.stop()
  await t.rejects(otp.get('6281'), StateStoreUnavailableError)
  await t.rejects(otp.update('6281', () => ({ value: 2, result: null })), StateStoreUnavailableError)
  await t.rejects(store.leases.acquire('sales', 'instance-a', 1000), StateStoreUnavailableError)
  await t.rejects(otp.update('6281', () => { throw new RangeError('the caller\'s own error') }), StateStoreUnavailableError, 'the read fails before the change runs')

  await server.start()
  // The client reconnects on its own schedule; nothing to await but its success.
  let value: number | undefined
  for (let attempt = 0; ; attempt++) {
    try {
      value = await otp.update('6281', (current) => ({ value: (current ?? 0) + 1, result: (current ?? 0) + 1 }))
      break
    } catch (error) {
      if (!(error instanceof StateStoreUnavailableError) || attempt > 200) throw error
      await delay(50)
    }
  }
  t.equal(value, 1, 'working again (the restarted server kept nothing, as configured)')
  await t.rejects(otp.update('6281', () => { throw new RangeError('the caller\'s own error') }), RangeError, 'a change function\'s error passes unchanged')
  await t.rejects(store.sessions.update('a:b', () => ({ value: undefined, result: null })), InvalidStateKeyError)
})

// A flood of verifies for numbers without a code must cost Redis reads only: before, each one ran
// the compare-and-set script to delete a key that was not there.
t.test('updates that find nothing and store nothing send no write to Redis', async (t) => {
  const server = await startRedisServer(t)
  const store = await openRedisStateStore({ url: server.url })
  t.teardown(() => store.close())
  const redis = new Redis(server.url)
  t.teardown(() => redis.disconnect())
  const scriptCalls = async (): Promise<number> => {
    const stats = await redis.info('commandstats')
    return [...stats.matchAll(/^cmdstat_(?:evalsha|eval|fcall):calls=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
  }
  const otp = store.records<number>('otp')
  await otp.update('6281', () => ({ value: 1, result: null }))
  const before = await scriptCalls()
  t.ok(before > 0, 'a write runs the script')
  for (let index = 0; index < 100; index++) {
    t.equal(await otp.update(`6282${index}`, () => ({ value: undefined, result: 'not-found' })), 'not-found')
  }
  t.equal(await scriptCalls(), before)
})

t.test('opening fails with StateStoreUnavailableError when Redis cannot be reached', async (t) => {
  const server = await startRedisServer(t)
  await server.stop()
  await t.rejects(openRedisStateStore({ url: server.url }), StateStoreUnavailableError)
})

t.test('every key lives under REDIS_KEY_PREFIX', async (t) => {
  const server = await startRedisServer(t)
  const store = await openRedisStateStore({ url: server.url, keyPrefix: 'tenant-1:' })
  t.teardown(() => store.close())
  const lease = (await store.leases.acquire('sales', 'instance-a', 60_000))!
  await store.authState.write('sales', lease, { credentials: '{}', keys: { 'pre-key': { 1: 'x' } } })
  await store.records('otp').update('6281', () => ({ value: 1, result: null, expiresAt: Date.now() + 60_000 }))
  await store.sessions.update('sales', () => ({ value: { sessionId: 'sales', createdAt: '2026-01-01T00:00:00.000Z', user: null }, result: null }))
  await store.webhookDeliveries.enqueue({ id: 'd1', event: 'otp.sent', url: 'http://127.0.0.1:1/', body: '{}', attempts: 0, createdAt: 0, nextAttemptAt: 0 })
  await store.instances.heartbeat({ instanceId: 'instance-a', url: 'http://127.0.0.1:3000' }, 60_000)
  const client = new Redis(server.url)
  t.teardown(() => client.disconnect())
  const keys = await client.keys('*')
  t.ok(keys.length >= 8, `${keys.length} keys written`)
  t.same(keys.filter((key) => !key.startsWith('tenant-1:')), [])
  const other = await openRedisStateStore({ url: server.url, keyPrefix: 'tenant-2:' })
  t.teardown(() => other.close())
  t.same(await other.sessions.list(), [], 'another prefix sees nothing of it')
  t.same(await other.instances.live(), [])
})
