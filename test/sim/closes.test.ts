import { DisconnectReason } from '@whiskeysockets/baileys'
import t from 'tap'
import { closeBaileysClient, linkBaileysSocket, openBaileysSocket, waitForConnectionUpdate } from './baileys-client.js'
import { startSimulator, type CloseKind } from './index.js'

const expectedStatus: Array<[CloseKind, number]> = [
  ['restart-required', DisconnectReason.restartRequired],
  ['replaced', DisconnectReason.connectionReplaced],
  ['device-removed', DisconnectReason.loggedOut],
  ['unknown', DisconnectReason.badSession],
]

t.test('forced closes map to the DisconnectReason Baileys reports', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  for (const [index, [kind, statusCode]] of expectedStatus.entries()) {
    const phone = `62812345671${index}0`
    const client = await linkBaileysSocket(simulator, { phone })
    simulator.forceClose(phone, kind)
    const closed = await client.closed
    t.equal(closed.statusCode, statusCode, kind)
    await closeBaileysClient(client)
  }
})

t.test('a rejected login closes with 401, and the phone can log in again afterwards', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const phone = '6281234567200'
  const linked = await linkBaileysSocket(simulator, { phone })
  linked.socket.end(undefined)
  await linked.closed

  simulator.rejectLogins(phone, true)
  const rejected = await openBaileysSocket(simulator, linked.authDirectory)
  const closed = await rejected.closed
  t.equal(closed.statusCode, 401)
  t.equal(closed.message, 'Connection Failure')

  simulator.rejectLogins(phone, false)
  const again = await openBaileysSocket(simulator, linked.authDirectory)
  t.teardown(() => closeBaileysClient(again))
  await waitForConnectionUpdate(again.socket, (update) => update.connection === 'open')
  t.equal(simulator.connectionCount(phone), 1)
})

t.test('a dropped TCP connection closes with connectionClosed (428)', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const phone = '6281234567300'
  const client = await linkBaileysSocket(simulator, { phone })
  t.teardown(() => closeBaileysClient(client))
  simulator.dropConnections(phone)
  const closed = await client.closed
  t.equal(closed.statusCode, DisconnectReason.connectionClosed)
  t.equal(simulator.connectionCount(phone), 0)
})

t.test('a second login of the same device replaces the first: 440 for the older socket, counted', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const phone = '6281234567400'
  const first = await linkBaileysSocket(simulator, { phone })
  // Linking (QR, 515 restart, login) is not a conflict.
  t.equal(simulator.replacedConnections(phone), 0)
  const replaced = simulator.waitFor('replaced', (event) => event.phone === phone)

  const second = await openBaileysSocket(simulator, first.authDirectory)
  t.teardown(() => closeBaileysClient(second))
  const closed = await first.closed
  t.equal(closed.statusCode, DisconnectReason.connectionReplaced)
  t.same(await replaced, { phone, device: 1 })
  await waitForConnectionUpdate(second.socket, (update) => update.connection === 'open')
  t.equal(simulator.connectionCount(phone), 1, 'only the newer socket counts as the account connection')
  t.equal(simulator.replacedConnections(phone), 1)
  t.equal(simulator.replacedConnections(), 1)
  t.same(simulator.replacedConnectionsByPhone(), { [phone]: 1 })

  // A login after the previous socket closed cleanly replaces nothing.
  second.socket.end(undefined)
  await second.closed
  const third = await openBaileysSocket(simulator, first.authDirectory)
  t.teardown(() => closeBaileysClient(third))
  await waitForConnectionUpdate(third.socket, (update) => update.connection === 'open')
  t.equal(simulator.replacedConnections(phone), 1)

  // A forced close of kind 'replaced' is a test's doing, not a conflict: not counted.
  simulator.forceClose(phone, 'replaced')
  t.equal((await third.closed).statusCode, DisconnectReason.connectionReplaced)
  t.equal(simulator.replacedConnections(phone), 1)
  t.same(simulator.problems, [])
})
