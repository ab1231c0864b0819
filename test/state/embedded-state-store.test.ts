import t from 'tap'
import { join } from 'node:path'
import { temporaryDirectory } from '../helper.js'
import { openEmbeddedStateStore } from '../../src/state/embedded-state-store.js'
import type { StateStore } from '../../src/state/state-store.js'
import { stateStoreConformance } from './conformance.js'

stateStoreConformance(t, async (t) => {
  const directory = await temporaryDirectory(t, 'embedded-state-')
  let now = Date.UTC(2026, 0, 1)
  // One process holds one embedded store, so every "instance" of the suite shares it. Two opens of
  // the same lmdb file in one process would not be one service: lmdb-js keeps each handle's read
  // snapshot until the next timer turn, so a second handle may read just before the first one's
  // commit (seen as a flaky lease test). Surviving a restart is tested on reopen (embedded-crash).
  let store: Promise<StateStore> | undefined
  return {
    open: async () => {
      store ??= openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), clock: () => now, sweepIntervalMs: 0 })
        .then((opened) => {
          t.teardown(() => opened.close())
          return opened
        })
      return await store
    },
    now: () => now,
    advance: async (milliseconds) => { now += milliseconds },
    shortTtlMs: 1000
  }
})

t.test('the sweep removes expired records and heartbeats from disk; a closed store refuses calls', async (t) => {
  const directory = await temporaryDirectory(t, 'embedded-state-')
  let now = Date.UTC(2026, 0, 1)
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), clock: () => now, sweepIntervalMs: 0 })
  await store.records('otp').update('6281', () => ({ value: 1, result: null, expiresAt: now + 1000 }))
  await store.records('verification').update('v1', () => ({ value: 1, result: null, expiresAt: now + 5000 }))
  await store.records('otp').update('628forever', () => ({ value: 1, result: null }))
  await store.instances.heartbeat({ instanceId: 'a', url: 'http://127.0.0.1:3000' }, 1000)
  await store.chats.record('main', '6281', now + 1000, 'contact')
  await store.chats.record('main', '6282', now + 5000, 'account')
  t.equal(await store.deleteExpired(), 0)
  now += 2000
  t.equal(await store.deleteExpired(), 3, 'one record and one chat (both its entries: any chat, the number wrote) past their time')
  t.same([...await store.chats.sessionsChattingWith('6282', ['main'])], [['main', 'account']])
  t.same(await store.instances.live(), [])
  t.equal(await store.records('verification').get('v1'), 1)
  t.equal(await store.records('otp').get('628forever'), 1)
  await store.close()
  await store.close()
  await t.rejects(store.records('otp').get('628forever'), /state store is closed/)
  t.throws(() => store.records('nothing' as 'otp'), /unknown record kind/)
})

t.test('the sweep goes through a database in chunks and misses nothing between them', async (t) => {
  // Chunks of 500 keys: 1,203 records, every third one expired, the expired ones on both sides
  // of each chunk's end.
  const directory = await temporaryDirectory(t, 'embedded-state-')
  let now = Date.UTC(2026, 0, 1)
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), clock: () => now, sweepIntervalMs: 0 })
  t.teardown(() => store.close())
  const statuses = store.records<number>('message-status')
  const key = (index: number): string => `main/${String(index).padStart(5, '0')}`
  await Promise.all(Array.from({ length: 1203 }, async (_, index) => {
    await statuses.update(key(index), () => ({ value: index, result: null, expiresAt: now + (index % 3 === 0 ? 1000 : 5000) }))
  }))
  now += 2000
  t.equal(await store.deleteExpired(), 401)
  const left = await Promise.all(Array.from({ length: 1203 }, async (_, index) => await statuses.get(key(index))))
  t.equal(left.findIndex((value, index) => (value === undefined) !== (index % 3 === 0)), -1, 'the live ones stay')
  t.equal(await store.deleteExpired(), 0, 'every expired one was removed in the first pass')
})
