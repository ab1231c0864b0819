// The built service killed (kill -9 or SIGTERM) and started again on the same folders: what it
// had accepted is still there. DATA_DIR holds the embedded state store.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { serviceEnvironment, temporaryDirectory, testApiKey, type TestContext } from './helper.js'
import { startWebhookReceiver } from './helpers/webhook-receiver.js'
import { freePort, spawnNode, stopProcess, waitForOutput, type NodeProcess, serviceStart } from './processes.js'
import { startSimulator, type WhatsAppSimulator } from './sim/index.js'

interface Service {
  process: NodeProcess
  request: (method: string, path: string, body?: unknown) => Promise<{ statusCode: number, body: Record<string, any> }>
}

async function startService (
  t: TestContext,
  directory: string,
  simulator: WhatsAppSimulator,
  port: number,
  env: Record<string, string> = {}
): Promise<Service> {
  const caFile = join(directory, 'simulator-ca.pem')
  await writeFile(caFile, simulator.mediaCertificate)
  const started = spawnNode(serviceStart, {
    ...serviceEnvironment({ port, directory, simulator: { url: simulator.url, caFile } }),
    OTP_COOLDOWN_SECONDS: '600',
    OTP_MAX_ATTEMPTS: '5',
    ...env
  })
  t.teardown(() => stopProcess(started.child))
  await waitForOutput(started, /Server listening/)
  const base = `http://127.0.0.1:${port}`
  return {
    process: started,
    async request (method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'x-api-key': testApiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      return { statusCode: response.status, body: await response.json() as Record<string, any> }
    }
  }
}

async function linkSession (service: Service, simulator: WhatsAppSimulator): Promise<void> {
  const created = await service.request('POST', '/api/sessions/create', { sessionId: 'shop' })
  if (created.statusCode !== 201) throw new Error(`create answered ${created.statusCode}`)
  const qr = await service.request('GET', '/api/sessions/shop/qr')
  await simulator.scanQr(qr.body.data.qr as string, { phone: '6281500000001' })
  await waitForOutput(service.process, /"to":"connected"/)
}

async function stop (service: Service, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  service.process.child.kill(signal)
  await service.process.exited
}

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  t.test(`after ${signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} and a restart: the code verifies once, cooldown, wrong attempts and the message status survive`, async (t) => {
    const simulator = await startSimulator()
    t.teardown(() => simulator.stop())
    const directory = await temporaryDirectory(t)
    const port = await freePort()
    const recipient = '6281510000001'
    simulator.addContact(recipient)

    const first = await startService(t, directory, simulator, port)
    await linkSession(first, simulator)
    const sent = await first.request('POST', '/api/messages/shop/otp', { to: recipient })
    t.equal(sent.statusCode, 200)
    const messageId = sent.body.data.messageId as string
    const text = simulator.pendingMessages(recipient).map((message) => message.text).join('\n')
    const code = /\b(\d{6})\b/.exec(text)?.[1]
    t.ok(code, 'the code reached the phone')
    const wrongCode = code === '000000' ? '111111' : '000000'
    const wrong = await first.request('POST', '/api/otp/verify', { to: recipient, code: wrongCode })
    t.match(wrong, { statusCode: 400, body: { error: 'OTP_INVALID', attemptsLeft: 4 } })
    t.match(await first.request('GET', `/api/messages/shop/status/${messageId}`), { statusCode: 200, body: { data: { messageId, type: 'otp' } } })

    await stop(first, signal)
    const second = await startService(t, directory, simulator, port)
    await waitForOutput(second.process, /"to":"connected"/)

    t.match(await second.request('GET', `/api/messages/shop/status/${messageId}`), { statusCode: 200, body: { data: { messageId, type: 'otp', to: recipient } } }, 'the status survived')
    const again = await second.request('POST', '/api/messages/shop/otp', { to: recipient })
    t.match(again, { statusCode: 429, body: { error: 'OTP_COOLDOWN' } }, 'the cooldown survived')
    t.ok((again.body.retryAfter as number) > 500, `still about ten minutes to wait (${again.body.retryAfter as number} s)`)
    t.match(await second.request('POST', '/api/otp/verify', { to: recipient, code: wrongCode }), { statusCode: 400, body: { error: 'OTP_INVALID', attemptsLeft: 3 } }, 'the wrong attempt before the restart still counts')
    t.match(await second.request('POST', '/api/otp/verify', { to: recipient, code }), { statusCode: 200, body: { data: { verified: true } } }, 'the code sent before the restart verifies')
    t.match(await second.request('POST', '/api/otp/verify', { to: recipient, code }), { statusCode: 404, body: { error: 'OTP_NOT_FOUND' } }, 'once')
    await stop(second, 'SIGTERM')
  })
}

t.test('a webhook delivery waiting for its retry when the process is killed is delivered after the restart, once', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const receiver = await startWebhookReceiver(t)
  let receiverUp = false
  receiver.answer = (_request, response) => {
    if (receiverUp) response.writeHead(204).end()
    else response.writeHead(503, { 'retry-after': '1' }).end()
  }
  const directory = await temporaryDirectory(t)
  const port = await freePort()
  const env = { WEBHOOK_URL: receiver.url, WEBHOOK_EVENTS: 'otp.verified', LOG_LEVEL: 'info' }

  const first = await startService(t, directory, simulator, port, env)
  const recipient = '6281510000002'
  simulator.addContact(recipient)
  await linkSession(first, simulator)
  t.equal((await first.request('POST', '/api/messages/shop/otp', { to: recipient })).statusCode, 200)
  const code = /\b(\d{6})\b/.exec(simulator.pendingMessages(recipient).map((message) => message.text).join('\n'))?.[1]
  t.equal((await first.request('POST', '/api/otp/verify', { to: recipient, code })).statusCode, 200)
  const refused = await receiver.waitFor((request) => request.event === 'otp.verified')
  // Killed once the retry is written: the delivery waits in the queue, claimed by nobody.
  await waitForOutput(first.process, /webhook delivery will be retried/)
  await stop(first, 'SIGKILL')

  receiverUp = true
  const second = await startService(t, directory, simulator, port, env)
  const deliveryId = refused.headers['x-webhook-delivery']
  await receiver.waitFor((request) => request !== refused && request.headers['x-webhook-delivery'] === deliveryId, 20_000)
  const health = await second.request('GET', '/api/health')
  t.match(health.body.data.checks.stateStore, { status: 'ok', kind: 'embedded' })
  await stop(second, 'SIGTERM')
  t.equal(receiver.requests.filter((request) => request.headers['x-webhook-delivery'] === deliveryId).length, 2, 'refused once before the kill, delivered once after')
  t.same(receiver.requests.map((request) => request.event), ['otp.verified', 'otp.verified'], 'nothing else was sent')
})
