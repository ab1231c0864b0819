// Who runs which session with REDIS_URL, round by round, on the embedded store (same lease
// contract, conformance-tested against Redis) with a clock the test moves.
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { createSessionOwnership, type HeldSession, type SessionOwnershipOptions } from '../src/session-ownership.js'
import { openEmbeddedStateStore } from '../src/state/embedded-state-store.js'
import { StateStoreUnavailableError, type Lease, type StateStore } from '../src/state/state-store.js'
import { temporaryDirectory, type TestContext } from './helper.js'

const leaseMs = 3000

async function setUp (t: TestContext, overrides: Partial<SessionOwnershipOptions> = {}) {
  const directory = await temporaryDirectory(t, 'ownership-')
  const clock = { now: Date.UTC(2026, 0, 1) }
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), clock: () => clock.now, sweepIntervalMs: 0 })
  t.teardown(() => store.close())
  const held = new Map<string, HeldSession>()
  const adopted: string[] = []
  const lost: string[] = []
  const handedOver: string[] = []
  const ownership = createSessionOwnership({
    store,
    instanceId: 'a',
    instanceUrl: 'http://a',
    leaseMs,
    logger: pino({ level: 'silent' }),
    clock: () => clock.now,
    held: () => [...held.values()],
    adopt: async (taken: Array<{ lease: Lease }>) => {
      for (const { lease } of taken) {
        adopted.push(lease.sessionId)
        held.set(lease.sessionId, { lease, linked: true })
      }
    },
    lost: async (sessionId) => { lost.push(sessionId); held.delete(sessionId) },
    handOver: async (sessionId) => { handedOver.push(sessionId); held.delete(sessionId) },
    ...overrides
  })
  const addSession = async (sessionId: string, linked: boolean, holder?: string): Promise<void> => {
    const value = {
      sessionId,
      createdAt: new Date(clock.now).toISOString(),
      user: null,
      linked,
      ...(holder === undefined ? {} : { holder })
    }
    await store.sessions.update(sessionId, () => ({ value, result: null }))
  }
  return { store, clock, held, adopted, lost, handedOver, ownership, addSession }
}

async function otherInstances (store: StateStore, ids: string[]): Promise<void> {
  for (const instanceId of ids) await store.instances.heartbeat({ instanceId, url: `http://${instanceId}` }, 60_000)
}

t.test('orphans are taken up to the fair share (sessions / live instances, rounded up, plus one)', async (t) => {
  const { store, adopted, ownership, addSession } = await setUp(t)
  await otherInstances(store, ['b', 'c'])
  for (let index = 1; index <= 6; index++) await addSession(`s${index}`, true)
  await ownership.round()
  t.equal(adopted.length, 3, 'ceil(6 / 3) + 1 = 3')
  const held = await store.leases.holder('s4')
  t.equal(held, undefined, 'the rest stays free for the others')
})

t.test('a session someone holds is never taken; one that never linked is never failed over', async (t) => {
  const { store, adopted, ownership, addSession } = await setUp(t)
  await addSession('held', true)
  await store.leases.acquire('held', 'b', leaseMs)
  await addSession('waiting', false, 'b')
  await store.leases.acquire('waiting', 'b', leaseMs)
  await ownership.round()
  t.same(adopted, [])
  t.ok(await store.sessions.get('waiting'), 'kept while its instance holds it')
})

t.test('a session that never linked is dropped once the instance that created it is gone', async (t) => {
  const { store, adopted, ownership, addSession } = await setUp(t)
  await addSession('waiting', false, 'dead')
  await ownership.round()
  t.same(adopted, [], 'not opened elsewhere: its credentials cannot log in')
  t.equal(await store.sessions.get('waiting'), undefined, 'and no longer listed')
})

t.test('over the fair share: one session handed over per round', async (t) => {
  const { store, held, handedOver, ownership, addSession } = await setUp(t)
  await otherInstances(store, ['b', 'c'])
  for (let index = 1; index <= 6; index++) {
    await addSession(`s${index}`, true)
    const lease = await ownership.acquire(`s${index}`)
    held.set(`s${index}`, { lease: lease!, linked: true })
  }
  await ownership.round()
  t.equal(handedOver.length, 1)
  await ownership.round()
  await ownership.round()
  t.equal(handedOver.length, 3, 'down to its fair share of 3')
  await ownership.round()
  t.equal(handedOver.length, 3, 'and no further')
})

t.test('a holder that cannot renew closes the socket before the lease can run out', async (t) => {
  let failing = false
  const context = await setUp(t)
  const { store, clock, held, lost, ownership, addSession } = context
  const renew = store.leases.renew
  store.leases.renew = async (lease, ms) => {
    if (failing) throw new StateStoreUnavailableError(new Error('connection refused'))
    return await renew(lease, ms)
  }
  await addSession('s1', true)
  const lease = await ownership.acquire('s1')
  held.set('s1', { lease: lease!, linked: true })
  const acquiredAt = clock.now
  failing = true
  clock.now += leaseMs / 3
  await ownership.round()
  t.same(lost, [], 'one failed renewal: the lease is still valid for two thirds of its life')
  clock.now += leaseMs / 3
  await ownership.round()
  t.same(lost, ['s1'], 'closed')
  t.ok(clock.now < acquiredAt + leaseMs, 'before the lease ran out')
})

t.test('a holder paused past its lease closes the socket at once on waking, and writes no metadata meanwhile', async (t) => {
  const { clock, held, lost, ownership, addSession } = await setUp(t)
  await addSession('s1', true)
  const lease = await ownership.acquire('s1')
  held.set('s1', { lease: lease!, linked: true })
  t.equal(ownership.holds('s1'), true)
  clock.now += leaseMs + 1000
  t.equal(ownership.holds('s1'), false, 'no longer holds it by its own clock, before any round')
  await ownership.round()
  t.same(lost, ['s1'])
})

t.test('a lease taken by another instance is lost at the next round', async (t) => {
  const { store, clock, held, lost, ownership, addSession } = await setUp(t)
  await addSession('s1', true)
  const lease = await ownership.acquire('s1')
  held.set('s1', { lease: lease!, linked: true })
  await store.leases.release(lease!)
  await store.leases.acquire('s1', 'b', leaseMs)
  clock.now += leaseMs / 3
  await ownership.round()
  t.same(lost, ['s1'])
})
