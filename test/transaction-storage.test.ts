// Baileys wraps each socket's key store in a transaction layer that keeps its context in an
// AsyncLocalStorage. Node (before 24) visits every enabled storage on each async resource the
// process creates and never releases one that is not disabled, so one storage per socket made
// every promise in the service cost more with each socket ever opened (WhiskeySockets/Baileys#2806:
// 40 linked sessions doubled the CPU of a GET /). patches/ makes the sockets share one storage,
// enabled only while a transaction runs. These tests fail on the unpatched package.
//
// Every async resource made during a transaction carries the storage's table, and with it the
// transaction's keys. lru-cache's TTL timers (Baileys' LID mappings: three days) are made while a
// message is encrypted, so each message sent held its transaction's signal sessions for days. A
// transaction that ends now takes itself out of every table that carries it.
import t from 'tap'
import { executionAsyncResource } from 'node:async_hooks'
import { addTransactionCapability, type SignalDataSet, type SignalKeyStore } from '@whiskeysockets/baileys'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'

// Each enabled storage stamps one symbol-keyed property on every new async resource, the promise
// this continuation runs in included.
async function enabledStorages (): Promise<number> {
  await null
  return Object.getOwnPropertySymbols(executionAsyncResource()).length
}

const silent = { level: 'silent', trace () {}, debug () {}, info () {}, warn () {}, error () {}, child () { return silent } }

function memoryKeyStore (): SignalKeyStore & { written: SignalDataSet[] } {
  const written: SignalDataSet[] = []
  return {
    written,
    async get (type, ids) {
      const found: Record<string, unknown> = {}
      for (const data of written) for (const id of ids) if (data[type]?.[id] !== undefined) found[id] = data[type][id]
      return found as never
    },
    async set (data) { written.push(data) }
  }
}

const withTransactions = (store: SignalKeyStore): ReturnType<typeof addTransactionCapability> =>
  addTransactionCapability(store, silent as never, { maxCommitRetries: 1, delayBetweenTriesMs: 1 })

t.test('key stores share one async storage, however many are made', async (t) => {
  const first = withTransactions(memoryKeyStore())
  await first.transaction(async () => { await first.set({ session: { a: new Uint8Array([1]) } }) }, 'first')
  const before = await enabledStorages()
  for (let index = 0; index < 5; index++) {
    const store = withTransactions(memoryKeyStore())
    await store.transaction(async () => { await store.set({ session: { a: new Uint8Array([index]) } }) }, `store-${index}`)
  }
  t.equal(await enabledStorages(), before, 'five more stores in transactions enable no further storage')
})

t.test('each store sees only its own transaction, also when one runs inside the other', async (t) => {
  const shopKeys = memoryKeyStore()
  const bankKeys = memoryKeyStore()
  const shop = withTransactions(shopKeys)
  const bank = withTransactions(bankKeys)
  await shop.transaction(async () => {
    await shop.set({ session: { a: new Uint8Array([1]) } })
    t.equal(shop.isInTransaction(), true)
    t.equal(bank.isInTransaction(), false, "the shop's transaction is not the bank's")
    t.same(await bank.get('session', ['a']), {}, "the bank does not read the shop's pending write")
    await bank.transaction(async () => {
      await bank.set({ session: { b: new Uint8Array([2]) } })
      t.same(Object.keys(await shop.get('session', ['a'])), ['a'], 'the shop still reads its own pending write')
    }, 'bank')
    t.same(bankKeys.written, [{ session: { b: new Uint8Array([2]) } }], "the bank's inner transaction committed to the bank")
    t.same(shopKeys.written, [], "the shop's is not committed before it ends")
  }, 'shop')
  t.same(shopKeys.written, [{ session: { a: new Uint8Array([1]) } }], "the shop's write went to the shop only")
  t.equal(bankKeys.written.length, 1)
})

t.test('the storage is on only while a transaction runs, however transactions overlap', async (t) => {
  const first = withTransactions(memoryKeyStore())
  const second = withTransactions(memoryKeyStore())
  let inside = 0
  await first.transaction(async () => { inside = await enabledStorages() }, 'measure')
  t.equal(await enabledStorages(), inside - 1, 'off once the only transaction ended')

  let endFirst = (): void => {}
  let endSecond = (): void => {}
  const firstRunning = first.transaction(async () => { await new Promise<void>((resolve) => { endFirst = resolve }) }, 'first')
  const secondSeen: boolean[] = []
  const secondRunning = second.transaction(async () => {
    await new Promise<void>((resolve) => { endSecond = resolve })
    secondSeen.push(second.isInTransaction())
    await second.set({ session: { b: new Uint8Array([2]) } })
    secondSeen.push(second.isInTransaction())
  }, 'second')
  await new Promise((resolve) => setImmediate(resolve))
  endFirst()
  await firstRunning
  endSecond()
  await secondRunning
  t.same(secondSeen, [true, true], 'the second transaction kept its context after the first one ended')
  t.equal(await enabledStorages(), inside - 1, 'off once the last of them ended')
  await first.transaction(async () => {
    t.equal(first.isInTransaction(), true, 'a later transaction turns it on again')
  }, 'again')
})

// The storage's value on an async resource: the table of running transactions it was created in.
function tablesOn (resource: object): Array<Map<unknown, unknown>> {
  return Object.getOwnPropertySymbols(resource)
    .map((symbol) => (resource as Record<symbol, unknown>)[symbol])
    .filter((value): value is Map<unknown, unknown> => value instanceof Map)
}

t.test('a timer set inside a transaction keeps none of its keys once it ends', async (t) => {
  const store = withTransactions(memoryKeyStore())
  let timer: NodeJS.Timeout | undefined
  await store.transaction(async () => {
    await store.set({ session: { a: new Uint8Array(1024) } })
    // lru-cache sets one such timer per entry with a TTL (Baileys' LID mappings: three days).
    timer = setTimeout(() => {}, 60_000)
    t.equal(tablesOn(timer).length, 1, 'the timer carries the table of the transaction it was set in')
    t.equal(tablesOn(timer)[0]!.size, 1, 'with the transaction in it while it runs')
  }, 'store')
  clearTimeout(timer)
  t.same(tablesOn(timer!).map((table) => table.size), [0], 'the ended transaction is out of the table')
})

t.test('a write begun inside a transaction that runs after the end reaches the store', async (t) => {
  const keys = memoryKeyStore()
  const store = withTransactions(keys)
  // Another session's transaction keeps the storage on meanwhile, as on a busy service.
  const other = withTransactions(memoryKeyStore())
  let endOther = (): void => {}
  const otherRunning = other.transaction(async () => { await new Promise<void>((resolve) => { endOther = resolve }) }, 'other')
  let ended = (): void => {}
  const transactionEnded = new Promise<void>((resolve) => { ended = resolve })
  let lateWrite: Promise<boolean> | undefined
  await store.transaction(async () => {
    lateWrite = (async () => {
      await transactionEnded
      await store.set({ session: { late: new Uint8Array([9]) } })
      return store.isInTransaction()
    })()
  }, 'store')
  ended()
  t.equal(await lateWrite, false, 'after the end, it runs outside the transaction')
  t.same(keys.written, [{ session: { late: new Uint8Array([9]) } }], 'written, not left in mutations already committed')
  endOther()
  await otherRunning
})

t.test('a transaction of another store begun inside one keeps none of its keys after both end', async (t) => {
  const outer = withTransactions(memoryKeyStore())
  const inner = withTransactions(memoryKeyStore())
  let timer: NodeJS.Timeout | undefined
  await outer.transaction(async () => {
    await inner.transaction(async () => {
      timer = setTimeout(() => {}, 60_000)
      t.equal(tablesOn(timer)[0]!.size, 2, 'the inner table carries both transactions')
    }, 'inner')
    t.equal(tablesOn(timer!)[0]!.size, 1, 'the outer one still runs')
  }, 'outer')
  clearTimeout(timer)
  t.same(tablesOn(timer!).map((table) => table.size), [0])
})

t.test('a linked session that reconnects and sends again enables no further storage', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  simulator.addContact('6281390000001')
  await linkSession(app, simulator, 'steady', '6281390000099')
  const send = async (): Promise<void> => {
    const sent = await app.inject({ method: 'POST', url: '/api/messages/steady/text', headers: authHeaders, payload: { to: '6281390000001', message: 'hello' } })
    t.equal(sent.statusCode, 200, sent.body)
  }
  await send()
  const before = await enabledStorages()
  for (let reconnect = 0; reconnect < 3; reconnect++) {
    const reconnected = nextSessionEvent(app, 'connected', 'steady')
    simulator.dropConnections('6281390000099')
    await reconnected
    await send()
  }
  t.equal(await enabledStorages(), before, 'three new sockets, each encrypting a message in a transaction')
})
