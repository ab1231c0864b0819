import { DisconnectReason } from '@whiskeysockets/baileys'
import t from 'tap'
import {
  closeBaileysClient,
  linkBaileysSocket,
  newAuthDirectory,
  openBaileysSocket,
  waitForConnectionUpdate,
} from './baileys-client.js'
import { startSimulator } from './index.js'

t.test('QR, scan, 515 restart, login with saved credentials, open', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const authDirectory = await newAuthDirectory()
  const registering = await openBaileysSocket(simulator, authDirectory)
  const { qr } = await waitForConnectionUpdate(registering.socket, (update) => !!update.qr)
  t.match(qr, /^https:\/\/wa\.me\/settings\/linked_devices#/)
  const newLogin = waitForConnectionUpdate(registering.socket, (update) => update.isNewLogin === true)
  await simulator.scanQr(qr!, { phone: '6281234567001' })
  await newLogin
  const restart = await registering.closed
  t.equal(restart.statusCode, DisconnectReason.restartRequired)
  t.equal(registering.socket.authState.creds.me?.id, '6281234567001:1@s.whatsapp.net')

  const opened = simulator.waitFor('open')
  const client = await openBaileysSocket(simulator, authDirectory)
  t.teardown(() => closeBaileysClient(client))
  await waitForConnectionUpdate(client.socket, (update) => update.connection === 'open')
  t.same(await opened, { phone: '6281234567001', device: 1 })
  t.equal(simulator.registrations, 1)
  t.equal(simulator.logins, 1)
  t.equal(simulator.connectionCount('6281234567001'), 1)
  t.same(simulator.problems, [])
})

t.test('refs exhausted: Baileys closes with 408 "QR refs attempts ended"', async (t) => {
  const simulator = await startSimulator({ qrRefs: 2 })
  t.teardown(() => simulator.stop())
  const client = await openBaileysSocket(simulator, await newAuthDirectory(), { qrTimeout: 100 })
  t.teardown(() => closeBaileysClient(client))
  const qrCodes: string[] = []
  client.socket.ev.on('connection.update', (update) => {
    if (update.qr) qrCodes.push(update.qr)
  })
  const closed = await client.closed
  t.equal(closed.statusCode, DisconnectReason.timedOut)
  t.equal(closed.message, 'QR refs attempts ended')
  t.equal(qrCodes.length, 2)
  t.equal(simulator.registrations, 1)
})

t.test('several linked devices at once', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const first = await linkBaileysSocket(simulator, { phone: '6281234567011' })
  t.teardown(() => closeBaileysClient(first))
  const second = await linkBaileysSocket(simulator, { phone: '6281234567012' })
  t.teardown(() => closeBaileysClient(second))
  t.equal(simulator.registrations, 2)
  t.equal(simulator.connectionCount('6281234567011'), 1)
  t.equal(simulator.connectionCount('6281234567012'), 1)
  t.equal(first.socket.user?.id, '6281234567011:1@s.whatsapp.net')
  t.equal(second.socket.user?.id, '6281234567012:1@s.whatsapp.net')
})

t.test('pairing code request reaches the server with the phone number', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const client = await openBaileysSocket(simulator, await newAuthDirectory())
  t.teardown(() => closeBaileysClient(client))
  await waitForConnectionUpdate(client.socket, (update) => !!update.qr)
  const requested = simulator.waitFor('pairing-code')
  const code = await client.socket.requestPairingCode('6281234567021')
  t.match(code, /^[A-Z0-9]{8}$/)
  t.same(await requested, { phone: '6281234567021' })
  t.same(simulator.pairingCodeRequests, [{ phone: '6281234567021' }])
})
