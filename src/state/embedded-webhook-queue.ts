import { randomUUID } from 'node:crypto'
import type { Database, Key, RootDatabase } from 'lmdb'
import type { ClaimedWebhookDelivery, WebhookDelivery, WebhookDeliveryQueue } from './state-store.js'

interface StoredDelivery { delivery: WebhookDelivery, visibleAt: number, claimToken: string | null }
type DueKey = [visibleAt: number, id: string]

// LMDB keeps each database's entry count: reading it walks nothing, but lmdb-js reads the whole
// environment's statistics with it (about 45 µs), so it is read at open only.
const entryCount = (database: Database<unknown, Key>): number => (database.getStats() as { entryCount: number }).entryCount

// The embedded store's webhook queue (src/state/embedded-state-store.ts opens the environment).
// Deliveries pile up while a receiver is down, so nothing here walks them all: a due index keyed
// [visibleAt, id] gives claims and the next due time in order, as the Redis store's sorted set
// does, and counters give the stats. Every change to a delivery changes its index entry and the
// counters in the same transaction.
export function openEmbeddedWebhookQueue (
  state: RootDatabase,
  options: { assertOpen: () => void, clock: () => number }
): WebhookDeliveryQueue {
  const { assertOpen, clock } = options
  const deliveryDatabase = state.openDB<StoredDelivery, string>({ name: 'webhook-deliveries' })
  const dueDatabase = state.openDB<true, DueKey>({ name: 'webhook-due' })
  // delivered and failed count every settled delivery; pending and retrying the queue's now.
  const counterDatabase = state.openDB<number, string>({ name: 'webhook-counters' })

  type Counter = 'delivered' | 'failed' | 'pending' | 'retrying'
  const counter = (name: Counter): number => counterDatabase.get(name) ?? 0
  function count (name: Counter, change: number): void {
    if (change !== 0) counterDatabase.putSync(name, counter(name) + change)
  }
  const retrying = (stored: StoredDelivery | undefined): number => (stored?.delivery.attempts ?? 0) > 0 ? 1 : 0

  function put (stored: StoredDelivery, previous: StoredDelivery | undefined): void {
    const { id } = stored.delivery
    if (previous !== undefined) dueDatabase.removeSync([previous.visibleAt, id])
    deliveryDatabase.putSync(id, stored)
    dueDatabase.putSync([stored.visibleAt, id], true)
    count('pending', previous === undefined ? 1 : 0)
    count('retrying', retrying(stored) - retrying(previous))
  }

  function remove (stored: StoredDelivery, settled: 'delivered' | 'failed'): void {
    const { id } = stored.delivery
    deliveryDatabase.removeSync(id)
    dueDatabase.removeSync([stored.visibleAt, id])
    count('pending', -1)
    count('retrying', -retrying(stored))
    count(settled, 1)
  }

  // Deliveries written before the index and these counters existed (an older version's state.mdb)
  // get them here, once; afterwards they move together with the deliveries.
  const deliveries = entryCount(deliveryDatabase)
  if (entryCount(dueDatabase) !== deliveries || counter('pending') !== deliveries) {
    state.transactionSync(() => {
      for (const key of dueDatabase.getKeys()) dueDatabase.removeSync(key)
      counterDatabase.putSync('pending', 0)
      counterDatabase.putSync('retrying', 0)
      for (const { value } of deliveryDatabase.getRange()) put(value, undefined)
    })
  }

  // Changes a claimed delivery in one transaction; false when the claim was lost.
  async function changeClaimed (claimed: ClaimedWebhookDelivery, apply: (stored: StoredDelivery) => void): Promise<boolean> {
    assertOpen()
    return await state.transaction(() => {
      const stored = deliveryDatabase.get(claimed.id)
      if (stored === undefined || stored.claimToken !== claimed.claimToken) return false
      apply(stored)
      return true
    })
  }

  return {
    async enqueue (delivery) {
      assertOpen()
      await state.transaction(() => {
        put({ delivery, visibleAt: delivery.nextAttemptAt, claimToken: null }, deliveryDatabase.get(delivery.id))
      })
    },
    async claim (limit, leaseMs) {
      assertOpen()
      return await state.transaction(() => {
        const now = clock()
        const due: StoredDelivery[] = []
        // An entry without its delivery can only come from a file changed outside the service.
        const orphans: DueKey[] = []
        for (const [visibleAt, id] of dueDatabase.getKeys()) {
          if (visibleAt > now || due.length === limit) break
          const stored = deliveryDatabase.get(id)
          if (stored === undefined) orphans.push([visibleAt, id])
          else due.push(stored)
        }
        for (const key of orphans) dueDatabase.removeSync(key)
        return due.map((stored) => {
          const claimToken = randomUUID()
          put({ ...stored, visibleAt: now + leaseMs, claimToken }, stored)
          return { ...stored.delivery, claimToken }
        })
      })
    },
    async extend (claimed, leaseMs) {
      return await changeClaimed(claimed, (stored) => {
        put({ ...stored, visibleAt: clock() + leaseMs }, stored)
      })
    },
    async ack (claimed) {
      return await changeClaimed(claimed, (stored) => { remove(stored, 'delivered') })
    },
    async retry (claimed, nextAttemptAt) {
      return await changeClaimed(claimed, (stored) => {
        const delivery = { ...stored.delivery, attempts: stored.delivery.attempts + 1, nextAttemptAt }
        put({ delivery, visibleAt: nextAttemptAt, claimToken: null }, stored)
      })
    },
    async fail (claimed) {
      return await changeClaimed(claimed, (stored) => { remove(stored, 'failed') })
    },
    async nextDueAt () {
      assertOpen()
      const [first] = dueDatabase.getKeys({ limit: 1 })
      return first?.[0]
    },
    async stats () {
      assertOpen()
      return { pending: counter('pending'), retrying: counter('retrying'), delivered: counter('delivered'), failed: counter('failed') }
    }
  }
}
