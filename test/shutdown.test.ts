// The built entry under SIGTERM while sends wait in a queue, as `docker stop` would send it.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { serviceEnvironment, temporaryDirectory, testApiKey } from './helper.js'
import { freePort, spawnNode, stopProcess, waitForOutput, serviceStart } from './processes.js'
import { startSimulator } from './sim/index.js'

t.test('SIGTERM with sends queued: they are answered 503 at once and the process exits 0 within the grace period', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const directory = await temporaryDirectory(t)
  const caFile = join(directory, 'simulator-ca.pem')
  await writeFile(caFile, simulator.mediaCertificate)
  const port = await freePort()
  const server = spawnNode(serviceStart, {
    ...serviceEnvironment({ port, directory, simulator: { url: simulator.url, caFile } }),
    // A turn every 30 s with waits of up to ten minutes allowed: two queued sends would hold the
    // old shutdown for a minute, far past its 9 s grace period.
    SEND_MIN_GAP_MS: '30000',
    SEND_MAX_WAIT_MS: '600000',
    SEND_QUEUE_MAX: '1'
  })
  t.teardown(() => stopProcess(server.child))
  await waitForOutput(server, /Server listening/)

  const base = `http://127.0.0.1:${port}`
  const headers = { 'x-api-key': testApiKey, 'content-type': 'application/json' }
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
    return { statusCode: response.status, body: await response.json() as Record<string, unknown> }
  }

  t.equal((await post('/api/sessions/create', { sessionId: 'shop' })).statusCode, 201)
  const qr = await (await fetch(`${base}/api/sessions/shop/qr`, { headers })).json() as { data: { qr: string } }
  await simulator.scanQr(qr.data.qr, { phone: '6281500000001' })
  await waitForOutput(server, /"to":"connected"/)
  const recipient = '6281510000001'
  simulator.addContact(recipient)

  const sendText = async (message: string) => await post('/api/messages/shop/text', { to: recipient, message })
  t.equal((await sendText('sent first')).statusCode, 200)
  const requests = ['queued 1', 'queued 2', 'queued 3'].map(sendText)
  // One waits out the gap as the next to start and one (SEND_QUEUE_MAX) waits behind it;
  // whichever arrived third is refused at once.
  const full = await Promise.race(requests)
  t.equal(full.statusCode, 429)

  server.child.kill('SIGTERM')
  const answers = (await Promise.all(requests)).filter((answer) => answer !== full)
  t.same(answers, [0, 1].map(() => ({
    statusCode: 503,
    body: { success: false, message: 'Session shop sedang ditutup, pesan tidak dikirim', error: 'SEND_QUEUE_CLOSED' }
  })))
  const [code] = await server.exited as [number | null]
  // close-with-grace exits 1 when the close outlasts its 9 s.
  t.equal(code, 0, 'a clean exit, not the grace period running out')
  t.same(simulator.pendingMessages(recipient).map((message) => message.text), ['sent first'], 'only the first message was sent')
})
