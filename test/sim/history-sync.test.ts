import type { BaileysEventMap, WASocket } from '@whiskeysockets/baileys'
import t from 'tap'
import { closeBaileysClient, linkBaileysSocket, openBaileysSocket, waitForConnectionUpdate } from './baileys-client.js'
import { startSimulator } from './index.js'

// After a device's first login Baileys 7 buffers events (AwaitingInitialSync) until the phone's
// history sync notification arrives, or for 20 s. In rc14 every online <message> and <receipt>
// flushes that buffer when it is handled, so inbound texts and receipts get through anyway; what
// stays held is everything emitted outside that handling, like the messages.upsert of Baileys' own
// sends. These tests keep Baileys' default shouldSyncHistoryMessage, as the service does.

/** Resolves with the first event matching the predicate; the timeout is a bound, not a wait. */
function nextEvent<E extends keyof BaileysEventMap> (
  socket: WASocket,
  event: E,
  predicate: (payload: BaileysEventMap[E]) => boolean,
  timeoutMs: number
): Promise<BaileysEventMap[E]> {
  return new Promise((resolve, reject) => {
    const listener = (payload: BaileysEventMap[E]) => {
      if (!predicate(payload)) return
      clearTimeout(timer)
      socket.ev.off(event, listener)
      resolve(payload)
    }
    const timer = setTimeout(() => {
      socket.ev.off(event, listener)
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.ev.on(event, listener)
  })
}

const ownSendUpsert = (socket: WASocket, text: string, timeoutMs: number) =>
  nextEvent(
    socket,
    'messages.upsert',
    ({ messages, type }) =>
      type === 'append' && messages.some((message) => message.key.fromMe && message.message?.extendedTextMessage?.text === text),
    timeoutMs
  )

function waitForCreds (
  socket: WASocket,
  predicate: (creds: WASocket['authState']['creds']) => boolean,
  timeoutMs = 5000
): Promise<void> {
  if (predicate(socket.authState.creds)) return Promise.resolve()
  return nextEvent(socket, 'creds.update', () => predicate(socket.authState.creds), timeoutMs).then(() => undefined)
}

const inboundText = (socket: WASocket, text: string, timeoutMs: number) =>
  nextEvent(
    socket,
    'messages.upsert',
    ({ messages, type }) => type === 'notify' && messages.some((message) => message.message?.conversation === text),
    timeoutMs
  )

t.test('the phone sends the initial history sync after the first login', { timeout: 30000 }, async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const contact = simulator.addContact('6281300000011')
  const historySync = simulator.waitFor('history-sync', ({ phone }) => phone === '6281200000011')
  const appStateSync = simulator.waitFor('app-state-sync', ({ phone }) => phone === '6281200000011')
  const client = await linkBaileysSocket(simulator, { phone: '6281200000011' })

  t.match(await historySync, { phone: '6281200000011', device: 1 })
  const { collections } = await appStateSync
  t.same([...collections].sort(), ['critical_block', 'critical_unblock_low', 'regular', 'regular_high', 'regular_low'])
  // Baileys counts the finished initial sync; later logins skip the wait because of it.
  await waitForCreds(client.socket, (creds) => creds.accountSyncCounter === 1)

  // rc14's event buffer (Utils/event-buffer.js) can lose its debounced flush: a buffered function
  // whose work overlaps an explicit flush (here the end of the initial sync) leaves a fired
  // flushPendingTimeout handle behind, and no later buffered function schedules one again. From
  // then on, the upsert of an own send waits for the next node Baileys handles (a receipt, an
  // inbound message) or the buffer's 30 s timeout. See README "History sync".
  t.test('Baileys is online: its own send upsert comes at the latest with the next inbound node', async (t) => {
    const upsert = ownSendUpsert(client.socket, 'Kode OTP Anda: 000111', 5000)
    const sent = await client.socket.sendMessage(contact.jid, { text: 'Kode OTP Anda: 000111' })
    await simulator.nextMessage(contact.phone)
    await simulator.sendReceipt(contact.phone, sent!.key.id!, 'delivered')
    await upsert
    t.pass('upsert within 5 s')
  })

  t.test('an inbound text arrives as messages.upsert at once', async (t) => {
    const upsert = inboundText(client.socket, 'halo setelah link', 5000)
    const started = Date.now()
    await simulator.sendText(contact.phone, client.phone, 'halo setelah link')
    await upsert
    t.ok(Date.now() - started < 5000, `arrived in ${Date.now() - started} ms`)
  })

  t.test('a delivery receipt arrives as messages.update at once', async (t) => {
    const sent = await client.socket.sendMessage(contact.jid, { text: 'Kode OTP Anda: 111222' })
    await simulator.nextMessage(contact.phone)
    const update = nextEvent(
      client.socket,
      'messages.update',
      (updates) => updates.some(({ key, update }) => key.id === sent?.key.id && update.status === 3),
      5000
    )
    const started = Date.now()
    await simulator.sendReceipt(contact.phone, sent!.key.id!, 'delivered')
    await update
    t.ok(Date.now() - started < 5000, `arrived in ${Date.now() - started} ms`)
  })

  t.test('a later login gets no history sync, and Baileys does not wait for one', async (t) => {
    client.socket.end(undefined)
    await client.closed
    const again = await openBaileysSocket(simulator, client.authDirectory)
    t.teardown(() => closeBaileysClient(again))
    await waitForConnectionUpdate(again.socket, (update) => update.connection === 'open')
    const upsert = inboundText(again.socket, 'halo lagi', 5000)
    await simulator.sendText(contact.phone, client.phone, 'halo lagi')
    await upsert
    // A message from Baileys is handled after that connection's login queries, so any history
    // sync for this login would have been counted by now.
    await again.socket.sendMessage(contact.jid, { text: 'balasan' })
    await simulator.nextMessage(contact.phone)
    t.equal(simulator.initialHistorySyncs, 1)
    t.same(simulator.problems, [])
  })
})
