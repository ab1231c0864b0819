// The embedded webhook queue answers claims, the next due time and stats from its index, never by
// reading every pending delivery (a receiver down for hours leaves tens of thousands: reading them
// all took 200-330 ms per call at 50,000). The shared behaviour is in conformance.ts; here what
// only the embedded store has: its index is rebuilt for deliveries an older version wrote.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { open } from 'lmdb'
import { temporaryDirectory } from '../helper.js'
import { openEmbeddedStateStore, stateFileName } from '../../src/state/embedded-state-store.js'
import type { WebhookDelivery } from '../../src/state/state-store.js'

const now = Date.UTC(2026, 0, 1)

function delivery (id: string, nextAttemptAt: number, attempts = 0): WebhookDelivery {
  return { id, event: 'otp.sent', url: 'http://127.0.0.1:9/hook', body: '{}', attempts, createdAt: now, nextAttemptAt }
}

async function openStore (t: Test, directory: string): ReturnType<typeof openEmbeddedStateStore> {
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), clock: () => now, sweepIntervalMs: 0 })
  t.teardown(() => store.close())
  return store
}

t.test('deliveries an older version wrote, without the index, are indexed on open', async (t) => {
  const directory = await temporaryDirectory(t, 'embedded-queue-')
  // What versions before the index left in state.mdb: the deliveries and the settled counts.
  const older = open({ path: join(directory, 'data', stateFileName), noSubdir: true, maxDbs: 16, encoding: 'msgpack' })
  const deliveries = older.openDB({ name: 'webhook-deliveries' })
  await older.openDB({ name: 'webhook-counters' }).put('delivered', 7)
  for (const stored of [delivery('later', now + 60_000), delivery('retried', now - 1, 2), delivery('first', now - 2)]) {
    await deliveries.put(stored.id, { delivery: stored, visibleAt: stored.nextAttemptAt, claimToken: null })
  }
  await older.close()

  const store = await openStore(t, directory)
  const queue = store.webhookDeliveries
  t.same(await queue.stats(), { pending: 3, retrying: 1, delivered: 7, failed: 0 })
  t.equal(await queue.nextDueAt(), now - 2)
  const claimed = await queue.claim(10, 1000)
  t.same(claimed.map((item) => item.id), ['first', 'retried'], 'due ones in order, the later one not yet')
  t.equal(await queue.ack(claimed[1]!), true)
  t.same(await queue.stats(), { pending: 2, retrying: 0, delivered: 8, failed: 0 })
})

t.test('a delivery enqueued again under its id replaces the first, in the index too', async (t) => {
  // The spool import enqueues a file again when a crash came between its enqueue and its removal.
  const store = await openStore(t, await temporaryDirectory(t, 'embedded-queue-'))
  const queue = store.webhookDeliveries
  await queue.enqueue(delivery('same', now - 10, 1))
  await queue.enqueue(delivery('same', now - 5))
  t.same(await queue.stats(), { pending: 1, retrying: 0, delivered: 0, failed: 0 })
  t.equal(await queue.nextDueAt(), now - 5)
  const claimed = await queue.claim(10, 1000)
  t.same(claimed.map((item) => [item.id, item.attempts]), [['same', 0]], 'claimed once, as enqueued last')
  t.equal(await queue.nextDueAt(), now + 1000, 'the claim hides it until its lease ends')
  t.same(await queue.claim(10, 1000), [])
})
