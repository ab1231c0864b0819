import { DisconnectReason } from '@whiskeysockets/baileys'
import t from 'tap'
import { closeBaileysClient, linkBaileysSocket } from './baileys-client.js'
import { startSimulator } from './index.js'

// Baileys closes once nothing arrived for keepAliveIntervalMs + 5 s: this file takes about 6 s.
t.test('unanswered keep-alive pings close the socket with 408 connectionLost', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const phone = '6281234567400'
  const client = await linkBaileysSocket(simulator, { phone, overrides: { keepAliveIntervalMs: 200 } })
  t.teardown(() => closeBaileysClient(client))
  simulator.setKeepAliveAnswers(false)
  const closed = await client.closed
  t.equal(closed.statusCode, DisconnectReason.connectionLost)
  t.equal(closed.message, 'Connection was lost')
})

t.test('answered keep-alive pings keep the socket open', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const phone = '6281234567401'
  const client = await linkBaileysSocket(simulator, { phone, overrides: { keepAliveIntervalMs: 200 } })
  t.teardown(() => closeBaileysClient(client))
  let pings = 0
  // Several ping round trips: the socket must still be open after them.
  await new Promise<void>((resolve) => {
    client.socket.ws.on('frame', () => {
      if (++pings === 10) resolve()
    })
  })
  t.equal(simulator.connectionCount(phone), 1)
})
