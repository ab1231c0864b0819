// The scenario of several instances end to end, on one cluster shared by the sub-tests (three
// built service processes, one real redis-server, the simulator, one webhook receiver): sessions
// created on A, QR read on B, status followed on C; OTPs sent through one instance and verified
// through another; one code verified on three instances at once; each webhook event once, also
// when the instance that attempted it dies, or dies while sending it.
import t, { type Test } from 'tap'
import { call as callAt, clusterLeaseMs, codeAt as codeAtOf, connectedOn, holders, recipients, startCluster, until, type Answer, type Instance } from './helpers/cluster.js'
import { startWebhookReceiver, type ReceivedWebhook } from './helpers/webhook-receiver.js'
import { connectionOwner, waitForOutput } from './processes.js'
import type { ServerResponse } from 'node:http'

async function call (instance: Instance, method: string, path: string, body?: unknown): Promise<Answer> {
  return await callAt(instance.base, method, path, body)
}

const cluster = await startCluster(t)
const { simulator, store } = cluster
const receiver = await startWebhookReceiver(t)
const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (id) => await cluster.start(id, { env: { WEBHOOK_URL: receiver.url } }))) as [Instance, Instance, Instance]
const byId = new Map([a, b, c].map((instance) => [instance.id, instance]))
const accounts = new Map([['shop', '6281700000001'], ['clinic', '6281700000002'], ['school', '6281700000003']])
const sessionIds = [...accounts.keys()]

const newRecipient = recipients(simulator, 6281710000001)
const codeAt = async (phone: string): Promise<string> => await codeAtOf(simulator, phone)

// What the test caused, to find in the webhooks afterwards: each exactly once.
const expected = { otpSent: [] as string[], otpVerified: [] as string[], received: [] as string[], texts: [] as string[] }

async function sendOtp (through: Instance, sessionId: string, to: string): Promise<Answer> {
  const sent = await call(through, 'POST', `/api/messages/${sessionId}/otp`, { to })
  if (sent.status === 200) expected.otpSent.push(sent.body.data.messageId)
  return sent
}

t.test('sessions created on A, QR read on B, status followed on C: one scan each, one socket per account, spread', async (t) => {
  for (const [sessionId, phone] of accounts) {
    t.equal((await call(a, 'POST', '/api/sessions/create', { sessionId })).status, 201, `${sessionId} created on A`)
    const qr = await call(b, 'GET', `/api/sessions/${sessionId}/qr`)
    t.equal(qr.status, 200, `${sessionId}: QR read on B`)
    await simulator.scanQr(qr.body.data.qr, { phone })
    const status = await until(`${sessionId} connected, as C says`, async () => {
      const answer = await call(c, 'GET', `/api/sessions/${sessionId}/status`)
      return answer.body.data?.status === 'connected' ? answer : undefined
    })
    t.match(status.body, { success: true, data: { status: 'connected', isConnected: true } }, `${sessionId}: C follows the status until connected`)
  }
  t.equal(cluster.links.scans, 3, 'one scan per session')
  t.equal(cluster.links.registrations, 3, 'one new device per session: no socket asked for a second QR')

  // Fair share: ceil(3 / 3) + 1 = 2, so A hands at least one of the three over.
  const spread = await until('sessions spread', async () => {
    const byInstance = await holders(store, sessionIds)
    const counts = [...byInstance.values()].map((held) => held.length)
    return !byInstance.has('none') && Math.max(...counts) <= 2 ? byInstance : undefined
  })
  t.ok(spread.size >= 2, `spread over the instances: ${JSON.stringify(Object.fromEntries(spread))}`)
  await until('every session connected on its holder', async () => (await Promise.all(sessionIds.map(async (id) => await connectedOn(store, id)))).every((holder) => holder !== undefined) ? true : undefined)

  t.equal(simulator.replacedConnections(), 0, 'nobody got 440: never two sockets for one account')
  for (const [sessionId, phone] of accounts) t.equal(simulator.connectionCount(phone), 1, `one open socket for ${sessionId} across the cluster`)
  t.equal(cluster.links.scans, 3, 'the hand-over needed no scan')
  t.equal(cluster.links.registrations, 3, 'and no new device')
})

t.test('an OTP sent through B verifies through C once; the cooldown holds on A and C', async (t) => {
  // A session whose socket is on another instance than B, so the send is forwarded.
  const sessionId = (await Promise.all(sessionIds.map(async (id) => ({ id, holder: (await store.leases.holder(id))?.instanceId })))).find(({ holder }) => holder !== 'b')!.id
  const phone = newRecipient()
  const sent = await sendOtp(b, sessionId, phone)
  t.equal(sent.status, 200, 'sent through B')
  const code = await codeAt(phone)

  const verified = await call(c, 'POST', '/api/otp/verify', { to: phone, code })
  t.equal(verified.status, 200, 'verified through C')
  t.same(verified.body, { success: true, message: 'Kode OTP valid', data: { verified: true, to: phone } })
  expected.otpVerified.push(phone)
  const again = await call(a, 'POST', '/api/otp/verify', { to: phone, code })
  t.equal(again.status, 404, 'a second verify, through A, fails')
  t.same(again.body, { success: false, message: 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru', error: 'OTP_NOT_FOUND' })

  // Through the other instances and another session: the cooldown is the number's, cluster-wide.
  const otherSession = sessionIds.find((id) => id !== sessionId)!
  for (const [name, instance] of [['A', a], ['C', c]] as const) {
    const refused = await sendOtp(instance, otherSession, phone)
    t.equal(refused.status, 429, `a second send through ${name} is refused`)
    t.match(refused.body, { success: false, error: 'OTP_COOLDOWN', message: /^OTP untuk nomor ini baru saja dikirim, tunggu \d+ detik/ })
    t.ok(Number(refused.headers.get('retry-after')) > 0, `with Retry-After (${String(refused.headers.get('retry-after'))})`)
  }
  t.same(simulator.pendingMessages(phone), [], 'the phone got one message only')
})

t.test('one code verified at the same moment on three instances succeeds exactly once', async (t) => {
  // Several rounds with fresh codes, so that a lucky ordering of the three cannot pass it.
  for (let round = 0; round < 5; round++) {
    const phone = newRecipient()
    const through = [a, b, c][round % 3]!
    t.equal((await sendOtp(through, sessionIds[round % sessionIds.length]!, phone)).status, 200)
    const code = await codeAt(phone)
    const answers = await Promise.all([a, b, c].map(async (instance) => await call(instance, 'POST', '/api/otp/verify', { to: phone, code })))
    const statuses = answers.map((answer) => answer.status)
    t.same([...statuses].sort(), [200, 404, 404], `round ${round + 1}: one 200 among ${JSON.stringify(statuses)}`)
    for (const answer of answers.filter((found) => found.status !== 200)) t.equal(answer.body.error, 'OTP_NOT_FOUND')
    expected.otpVerified.push(phone)
  }
})

function deliveryId (request: ReceivedWebhook): string {
  return String(request.headers['x-webhook-delivery'])
}

// Every request the receiver answered 2xx (the failed attempts before them are not).
const accepted: ReceivedWebhook[] = []
function accept (request: ReceivedWebhook, response: ServerResponse): void {
  accepted.push(request)
  response.writeHead(204).end()
}
receiver.answer = accept
const acceptedTimes = (id: string): number => accepted.filter((request) => deliveryId(request) === id).length

async function queueDrained (): Promise<void> {
  await until('every webhook delivery settled', async () => (await store.webhookDeliveries.stats()).pending === 0 ? true : undefined, 60_000)
}

// Each thing that happened once is in exactly one webhook, and each delivery arrived once.
function assertEachOnce (t: Test): void {
  const eventsOf = (event: string, key: (request: ReceivedWebhook) => string): string[] =>
    accepted.filter((request) => request.event === event).map(key)
  const once = (what: string, found: string[], wanted: string[]): void => {
    t.same([...found].sort(), [...wanted].sort(), `${what}: each once, none missing`)
  }
  once('otp.sent', eventsOf('otp.sent', (request) => String(request.data.messageId)), expected.otpSent)
  once('otp.verified', eventsOf('otp.verified', (request) => String(request.data.to)), expected.otpVerified)
  once('message.received', eventsOf('message.received', (request) => String(request.data.messageId)), expected.received)
  const statuses = eventsOf('message.status', (request) => `${String(request.data.messageId)} ${String(request.data.status)}`)
  t.equal(new Set(statuses).size, statuses.length, 'no message status twice')
  for (const messageId of expected.texts) t.ok(statuses.some((status) => status.startsWith(`${messageId} `)), `a status of text ${messageId}`)
  const ids = accepted.map(deliveryId)
  t.same(ids.filter((id, index) => ids.indexOf(id) !== index), [], 'no delivery reached the receiver twice')
}

t.test('each webhook event reaches the receiver once, whichever instance produced and sent it', async (t) => {
  // Texts and OTPs through each instance, for sessions wherever they are held.
  for (const [index, instance] of [a, b, c].entries()) {
    const to = newRecipient()
    const text = await call(instance, 'POST', `/api/messages/${sessionIds[index]!}/text`, { to, message: `through ${instance.id}` })
    t.equal(text.status, 200, `a text through ${instance.id}`)
    expected.texts.push(text.body.data.messageId)
    t.equal((await sendOtp(instance, sessionIds[(index + 1) % sessionIds.length]!, newRecipient())).status, 200, `an OTP through ${instance.id}`)
  }
  // Inbound messages reach each holder's socket.
  const contact = newRecipient()
  for (const phone of accounts.values()) expected.received.push(await simulator.sendText(contact, phone, `hello ${phone}`))

  await Promise.all(expected.received.map(async (messageId) => await receiver.waitFor((request) => request.event === 'message.received' && request.data.messageId === messageId, 20_000)))
  await queueDrained()
  assertEachOnce(t)
  const stats = await store.webhookDeliveries.stats()
  t.equal(stats.delivered, accepted.length, 'the cluster counted each delivery once')
  t.equal(stats.failed, 0)
})

t.test('a delivery that failed on an instance killed with -9 is delivered once by another', async (t) => {
  // The receiver is down: every delivery fails with 500 and waits for its next attempt.
  receiver.answer = (_request, response) => response.writeHead(500).end()
  const [sessionId, phone] = [...accounts][0]!
  const contact = newRecipient()
  const messageId = await simulator.sendText(contact, phone, 'while the receiver is down')
  expected.received.push(messageId)
  const failed = await receiver.waitFor((request) => request.event === 'message.received' && request.data.messageId === messageId, 20_000)
  const id = deliveryId(failed)
  // The instance that attempted it wrote the retry to the queue before anything else happens to it.
  const attempted = await Promise.any([a, b, c].map(async (instance) => {
    await waitForOutput(instance.process, new RegExp(`"deliveryId":"${id}"[^\\n]*webhook delivery will be retried`))
    return instance
  }))
  t.comment(`${sessionId}'s inbound message: delivery ${id} failed on ${attempted.id}, which is killed now`)
  attempted.process.child.kill('SIGKILL')
  await attempted.process.exited
  byId.delete(attempted.id)

  // The receiver is back: another instance sends it.
  receiver.answer = accept
  await receiver.waitFor((request) => deliveryId(request) === id && accepted.includes(request), 30_000)
  // The killed instance's sessions come back on the survivors; their events are sent too.
  await until('every session connected on a survivor', async () => (await Promise.all(sessionIds.map(async (id) => await connectedOn(store, id, (holder) => byId.has(holder))))).every((holder) => holder !== undefined) ? true : undefined)
  await queueDrained()
  t.equal(acceptedTimes(id), 1, 'delivered once, after the failed attempts')
  t.ok(receiver.requests.filter((request) => deliveryId(request) === id).length >= 2, 'the failed attempt and the delivery')
  assertEachOnce(t)
  t.equal(simulator.replacedConnections(), 0, 'the failover made no second socket either')
})

t.test('a delivery in flight on an instance killed with -9 is sent once by a survivor, within the lease', async (t) => {
  // The receiver holds this message's delivery open (never answers): its claim stays with the
  // instance sending it, which is killed mid-request.
  const text = 'held in flight'
  let held: ReceivedWebhook | undefined
  receiver.answer = (request, response) => {
    if (held === undefined && request.event === 'message.received' && request.data.text === text) held = request
    else accept(request, response)
  }
  const [, phone] = [...accounts][0]!
  expected.received.push(await simulator.sendText(newRecipient(), phone, text))
  const inFlight = await receiver.waitFor((request) => request === held, 20_000)
  const id = deliveryId(inFlight)
  const living = [...byId.values()]
  const receiverPort = Number(new URL(receiver.url).port)
  const pid = await connectionOwner(living.map((instance) => instance.process.child.pid!), inFlight.remotePort, receiverPort)
  const sender = living.find((instance) => instance.process.child.pid === pid)
  if (sender === undefined) throw new Error(`no instance holds the connection of delivery ${id}`)
  // Nothing else in flight, so the kill cuts only this request (one cut after the receiver
  // answered but before the sender wrote it would rightly be sent twice).
  await until('only the held delivery pending', async () => (await store.webhookDeliveries.stats()).pending === 1 ? true : undefined)
  t.comment(`delivery ${id} in flight on ${sender.id}, which is killed now`)
  sender.process.child.kill('SIGKILL')
  await sender.process.exited
  const killedAt = Date.now()
  byId.delete(sender.id)

  // The old claim (twice the request timeout plus 30 s) would keep it back for 50 s.
  const delivered = await receiver.waitFor((request) => deliveryId(request) === id && accepted.includes(request), 25_000)
  const afterMs = Date.now() - killedAt
  t.comment(`sent by a survivor ${afterMs} ms after the kill (lease ${clusterLeaseMs} ms)`)
  t.ok(afterMs < clusterLeaseMs + 5000, `within the lease plus a few seconds (${afterMs} ms)`)
  t.equal(delivered.rawBody, inFlight.rawBody, 'the same delivery')
  await until('every session connected on the survivor', async () => (await Promise.all(sessionIds.map(async (id) => await connectedOn(store, id, (holder) => byId.has(holder))))).every((holder) => holder !== undefined) ? true : undefined)
  await queueDrained()
  t.equal(acceptedTimes(id), 1, 'delivered once')
  t.equal(receiver.requests.filter((request) => deliveryId(request) === id).length, 2, 'the request cut by the kill and the delivery')
  assertEachOnce(t)
  const stats = await store.webhookDeliveries.stats()
  t.equal(stats.delivered, accepted.length, 'the killed claim counted nothing: each delivery counted once')
})
