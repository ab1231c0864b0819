// How long a request may be held by its session's send queue, through the real library and the
// simulator: refused at once when its turn is too far away, and refused at shutdown.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'

const sessionId = 'paced'
const linkedPhone = '6281400000001'

t.test('a send that cannot start within SEND_MAX_WAIT_MS is refused at once, with the real wait', async (t) => {
  // A turn every 30 s, a wait of at most 20 s: while one send has just gone, nothing else fits.
  const { app, simulator } = await buildWithSimulator(t, { env: { SEND_MIN_GAP_MS: '30000', SEND_MAX_WAIT_MS: '20000' } })
  await linkSession(app, simulator, sessionId, linkedPhone)
  const [first, second] = ['6281410000001', '6281410000002']
  simulator.addContact(first)
  simulator.addContact(second)
  const sendOtp = async (to: string) =>
    await app.inject({ method: 'POST', url: `/api/messages/${sessionId}/otp`, headers: authHeaders, payload: { to } })

  t.equal((await sendOtp(first)).statusCode, 200)

  const refused = await sendOtp(second)
  t.equal(refused.statusCode, 429)
  const retryAfter = Number(refused.headers['retry-after'])
  // The rest of the 30 s gap: what the queue really needs, not one second.
  t.ok(retryAfter > 20 && retryAfter <= 30, `Retry-After ${retryAfter}`)
  t.same(refused.json(), {
    success: false,
    message: `Antrian pengiriman session ${sessionId} penuh, coba lagi dalam ${retryAfter} detik`,
    error: 'SEND_QUEUE_FULL',
    retryAfter
  })
  t.same(simulator.pendingMessages(second), [], 'nothing was sent')
  const again = await sendOtp(second)
  t.equal(again.json().error, 'SEND_QUEUE_FULL', 'the refused request spent no cooldown')

  // Asking WhatsApp whether a number is on it takes a turn like a send: a number nobody has
  // asked about is not answered 422 at once, but refused like any send that cannot start.
  const stranger = await sendOtp('6281499999999')
  t.equal(stranger.statusCode, 429)
  t.equal(stranger.json().error, 'SEND_QUEUE_FULL')
})

t.test('shutdown refuses the queued sends at once with 503 and does not wait for the queue', async (t) => {
  // Turns a minute apart and waits allowed for ten: without the refusal, the two queued
  // requests would hold the server's close for two minutes.
  const { app, simulator } = await buildWithSimulator(t, {
    env: { SEND_MIN_GAP_MS: '60000', SEND_MAX_WAIT_MS: '600000', SEND_QUEUE_MAX: '1' }
  })
  await linkSession(app, simulator, sessionId, linkedPhone)
  const recipient = '6281420000001'
  simulator.addContact(recipient)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const sendText = async (message: string) => {
    const response = await fetch(`http://127.0.0.1:${port}/api/messages/${sessionId}/text`, {
      method: 'POST',
      headers: { ...authHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ to: recipient, message })
    })
    return { message, statusCode: response.status, body: await response.json() as Record<string, unknown> }
  }

  t.equal((await sendText('sent first')).statusCode, 200)
  await simulator.nextMessage(recipient)
  const requests = ['queued 1', 'queued 2', 'queued 3'].map(sendText)
  // One waits out the gap as the next to start and one (SEND_QUEUE_MAX) waits behind it;
  // whichever arrived third is refused at once, so the first answer says the other two are queued.
  const full = await Promise.race(requests)
  t.equal(full.statusCode, 429)

  // Resolves only once every request in flight has been answered: Fastify's close waits for them.
  await app.close()
  const answers = (await Promise.all(requests)).filter((answer) => answer !== full)
  t.same(answers.map(({ statusCode, body }) => ({ statusCode, body })), [0, 1].map(() => ({
    statusCode: 503,
    body: { success: false, message: `Session ${sessionId} sedang ditutup, pesan tidak dikirim`, error: 'SEND_QUEUE_CLOSED' }
  })))
  t.same(simulator.pendingMessages(recipient), [], 'none of the queued messages was sent')
})
