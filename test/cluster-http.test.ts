// Several built service processes on one real redis-server: any instance answers any call.
//
// Leases and instance heartbeats are written by the session registry on the "cluster" branch.
// Until that lands, this test writes them itself through the store's own API (a lease for the
// instance that created the session, a heartbeat per instance), only where none exists, so the
// same test keeps running once the registry writes them.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { serviceEnvironment, temporaryDirectory, testApiKey, type TestContext } from './helper.js'
import { call as callAt, type Answer } from './helpers/cluster.js'
import { png } from './helpers/media-samples.js'
import { freePort, spawnNode, stopProcess, waitForOutput, type NodeProcess, serviceStart } from './processes.js'
import { startSimulator, type WhatsAppSimulator } from './sim/index.js'
import { startRedisServer, type RedisServer } from './state/redis-server.js'
import { openRedisStateStore } from '../src/state/redis-state-store.js'
import type { StateStore } from '../src/state/state-store.js'

const headers = { 'x-api-key': testApiKey }
// Far longer than the test: a hand-written lease or heartbeat must not run out under it.
const handWrittenTtlMs = 600_000

interface Instance {
  id: string
  url: string
  process: NodeProcess
}

async function call (instance: Instance, method: string, path: string, body?: unknown): Promise<Answer> {
  return await callAt(instance.url, method, path, body)
}

async function startInstance (t: TestContext, id: string, redis: RedisServer, extra: Record<string, string> = {}): Promise<Instance> {
  const directory = await temporaryDirectory(t)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const started = spawnNode(serviceStart, {
    ...serviceEnvironment({ port, directory }),
    REDIS_URL: redis.url,
    OTP_SECRET: 'shared-otp-secret-of-the-cluster',
    INSTANCE_ID: id,
    INSTANCE_URL: url,
    ...extra
  })
  t.teardown(async () => await stopProcess(started.child))
  await waitForOutput(started, /Server listening/)
  return { id, url, process: started }
}

async function openStore (t: TestContext, redis: RedisServer): Promise<StateStore> {
  const store = await openRedisStateStore({ url: redis.url })
  t.teardown(async () => await store.close())
  return store
}

// Marks the instances live unless their own heartbeat already does.
async function ensureLive (store: StateStore, instances: Instance[]): Promise<void> {
  const live = new Set((await store.instances.live()).map((instance) => instance.instanceId))
  for (const instance of instances) {
    if (!live.has(instance.id)) await store.instances.heartbeat({ instanceId: instance.id, url: instance.url }, handWrittenTtlMs)
  }
}

async function ensureHeld (store: StateStore, sessionId: string, holder: Instance): Promise<void> {
  if (await store.leases.holder(sessionId) === undefined) await store.leases.acquire(sessionId, holder.id, handWrittenTtlMs)
  const lease = await store.leases.holder(sessionId)
  if (lease?.instanceId !== holder.id) throw new Error(`session ${sessionId} is held by ${String(lease?.instanceId)}, not ${holder.id}`)
}

async function simulatorEnvironment (t: TestContext, simulator: WhatsAppSimulator): Promise<Record<string, string>> {
  const caFile = join(await temporaryDirectory(t), 'simulator-ca.pem')
  await writeFile(caFile, simulator.mediaCertificate)
  return { WA_WEB_SOCKET_URL: simulator.url, WA_EXTRA_CA_FILE: caFile }
}

t.test('a call for a session held by A, made on B, is answered as A answers it', async (t) => {
  const redis = await startRedisServer(t)
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const environment = await simulatorEnvironment(t, simulator)
  const [a, b] = await Promise.all([startInstance(t, 'instance-a', redis, environment), startInstance(t, 'instance-b', redis, environment)])
  const store = await openStore(t, redis)
  await ensureLive(store, [a, b])

  t.equal((await call(a, 'POST', '/api/sessions/create', { sessionId: 'shop' })).status, 201)
  await ensureHeld(store, 'shop', a)

  const qr = await call(b, 'GET', '/api/sessions/shop/qr')
  t.equal(qr.status, 200, 'B answers the QR of a session whose socket is on A')
  const pngQr = await fetch(`${b.url}/api/sessions/shop/qr?format=png`, { headers })
  t.equal(pngQr.headers.get('content-type'), 'image/png', 'the PNG variant comes through as an image')
  t.same([...new Uint8Array(await pngQr.arrayBuffer()).subarray(1, 4)], [...Buffer.from('PNG')])

  // Scanning the QR B handed out links the socket on A: it was A's QR.
  await simulator.scanQr((qr.body.data as { qr: string }).qr, { phone: '6281500000001' })
  await waitForOutput(a.process, /"to":"connected"/)
  t.notMatch(b.process.output(), /"to":"connected"/, 'B never opened a socket of its own')

  const onA = await call(a, 'GET', '/api/sessions/shop/status')
  const onB = await call(b, 'GET', '/api/sessions/shop/status')
  t.equal(onB.status, 200)
  t.same(onB.body, onA.body, 'the status on B is A\'s own answer')
  t.equal(onB.headers.get('x-ratelimit-remaining'), String(Number(onA.headers.get('x-ratelimit-remaining')) - 1), 'a forwarded call counts once, on the instance it arrived at')

  const recipient = '6281510000001'
  simulator.addContact(recipient)
  const sent = await call(b, 'POST', '/api/messages/shop/text', { to: recipient, message: 'sent through B' })
  t.equal(sent.status, 200, 'a text sent through B')
  const form = new FormData()
  form.append('to', recipient)
  form.append('caption', 'a picture through B')
  form.append('file', new Blob([png()], { type: 'image/png' }), 'picture.png')
  const media = await fetch(`${b.url}/api/messages/shop/media`, { method: 'POST', headers, body: form })
  t.equal(media.status, 200, 'a multipart upload streamed through B to A')
  const received = simulator.pendingMessages(recipient)
  t.same(received.map((message) => message.media?.kind ?? message.text), ['sent through B', 'image'])
  t.same(received[1]?.media?.bytes, png(), 'the file arrived whole')

  // The session named in the JSON body, not in the path: placed the same way once the body is read.
  const inbound = await call(b, 'POST', '/api/otp/inbound', { sessionId: 'shop', to: recipient })
  t.equal(inbound.status, 200, 'a user-first verification on a session held by A, started through B')
  const { verificationId, text, waLink } = inbound.body.data as { verificationId: string, text: string, waLink: string }
  t.match(inbound.body, { success: true, data: { sessionId: 'shop' } })
  t.equal(waLink, `https://wa.me/6281500000001?text=${encodeURIComponent(text)}`, 'the user writes to the account linked on A')
  t.match((await call(a, 'GET', `/api/otp/verifications/${verificationId}`)).body, { data: { verificationId, sessionId: 'shop', method: 'inbound', status: 'pending', to: recipient } })

  const notConnected = await call(b, 'GET', '/api/sessions/shop/qr')
  t.same(notConnected.body, (await call(a, 'GET', '/api/sessions/shop/qr')).body, 'an error of A (already connected) reaches the caller as A gives it')
  t.equal(notConnected.status, 409)

  // The store's list: the holder's registry writes the metadata on the cluster branch.
  if (await store.sessions.get('shop') === undefined) {
    await store.sessions.update('shop', () => ({ value: { sessionId: 'shop', createdAt: new Date().toISOString(), user: null, status: 'connected' }, result: undefined }))
  }
  const listed = await call(b, 'GET', '/api/sessions')
  t.match(listed.body, { data: { total: 1, sessions: { shop: { status: 'connected', isConnected: true } } } }, 'B lists the session it does not hold from the store')
  const picked = await call(b, 'POST', '/api/otp/inbound', { to: recipient })
  t.equal(picked.status, 200, 'with no session named, B picks among the cluster\'s sessions, not only its own (none)')
  t.match(picked.body, { data: { sessionId: 'shop', waLink: /^https:\/\/wa\.me\/6281500000001\?text=/ } })

  const unknown = await call(b, 'GET', '/api/sessions/nobody-knows/qr')
  t.same(unknown.body, (await call(a, 'GET', '/api/sessions/nobody-knows/qr')).body, 'a session nobody has: the 404 one instance gives')

  const forged = await fetch(`${a.url}/api/sessions/shop/status`, {
    headers: { ...headers, 'x-instance-from': 'instance-b', 'x-instance-timestamp': String(Date.now()), 'x-instance-signature': 'bm90IGEgc2lnbmF0dXJl' }
  })
  t.equal(forged.status, 401, 'a call claiming to come from an instance without the right signature is refused')
  t.equal((await forged.json() as { error: string }).error, 'INSTANCE_SIGNATURE_INVALID')

  // A lease held by an instance that is not live: nobody can carry the call out yet.
  await store.leases.acquire('orphan', 'instance-gone', handWrittenTtlMs)
  const orphan = await call(b, 'POST', '/api/sessions/orphan/pairing-code', { phoneNumber: '6281500000009' })
  t.equal(orphan.status, 503)
  t.equal(orphan.body.error, 'SESSION_HOLDER_UNAVAILABLE')
  t.ok(Number(orphan.headers.get('retry-after')) > 0, 'with Retry-After')
  const orphanInbound = await call(b, 'POST', '/api/otp/inbound', { sessionId: 'orphan' })
  t.equal(orphanInbound.status, 503, 'the same for a session named in the body')
  t.equal(orphanInbound.body.error, 'SESSION_HOLDER_UNAVAILABLE')
  t.ok(Number(orphanInbound.headers.get('retry-after')) > 0)

  // The holder dies while its lease and heartbeat still stand: the forwarded call fails loudly.
  a.process.child.kill('SIGKILL')
  await a.process.exited
  const lost = await call(b, 'POST', '/api/messages/shop/text', { to: recipient, message: 'holder gone' })
  t.equal(lost.status, 503, 'the holder gone mid-way: a retryable error, not a silent drop')
  t.equal(lost.body.error, 'SESSION_HOLDER_UNAVAILABLE')
  t.ok(Number(lost.headers.get('retry-after')) > 0)
})

t.test('a limit of N calls a minute allows N across two instances', async (t) => {
  const redis = await startRedisServer(t)
  const limit = 6
  const environment = { RATE_LIMIT_MAX: String(limit), RATE_LIMIT_WINDOW: '1 minute' }
  const [a, b] = await Promise.all([startInstance(t, 'instance-a', redis, environment), startInstance(t, 'instance-b', redis, environment)])
  const statuses: number[] = []
  for (let index = 0; index < limit + 2; index++) {
    statuses.push((await call(index % 2 === 0 ? b : a, 'GET', '/api/messages/format-phone/08123456789')).status)
  }
  t.same(statuses, [...Array(limit).fill(200), 429, 429], `${limit} calls across both instances, not ${limit} each`)
})

// Retries a call to the test's own store until its client has reconnected.
async function whenReachable<Result> (work: () => Promise<Result>): Promise<Result> {
  for (;;) {
    try {
      return await work()
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

t.test('health shows instance and cluster; Redis stopped mid-run: 503 STATE_STORE_UNAVAILABLE, degraded, then recovery on its own', async (t) => {
  const redis = await startRedisServer(t)
  const [a, b] = await Promise.all([startInstance(t, 'instance-a', redis), startInstance(t, 'instance-b', redis)])
  const store = await openStore(t, redis)
  await ensureLive(store, [a, b])

  const health = await call(a, 'GET', '/api/health')
  t.match(health.body, {
    data: {
      status: 'ok',
      instance: { id: 'instance-a', url: a.url, sessionsHeld: 0 },
      cluster: { liveInstances: 2, instances: [{ id: 'instance-a', url: a.url }, { id: 'instance-b', url: b.url }] }
    }
  }, 'health shows this instance and the live cluster')

  await redis.stop()
  const list = await call(b, 'GET', '/api/sessions')
  t.equal(list.status, 503, 'Redis away: a call that needs it is 503')
  t.equal(list.body.error, 'STATE_STORE_UNAVAILABLE')
  t.ok(Number(list.headers.get('retry-after')) > 0)
  const routed = await call(b, 'GET', '/api/sessions/shop/qr')
  t.equal(routed.body.error, 'STATE_STORE_UNAVAILABLE', 'finding a session\'s holder needs Redis too')
  const degraded = await call(a, 'GET', '/api/health')
  t.equal(degraded.status, 200, 'health still answers, and so does the rate limiter')
  t.match(degraded.body, { data: { status: 'degraded', checks: { stateStore: { status: 'degraded' } }, instance: { id: 'instance-a' }, cluster: null } })

  await redis.start()
  // Redis came back empty (no persistence): the heartbeats are written again.
  await whenReachable(async () => await ensureLive(store, [a, b]))
  let recovered = await call(a, 'GET', '/api/health')
  // ioredis reconnects with its own backoff; polled, since the process announces nothing.
  while ((recovered.body.data as { status: string }).status !== 'ok') {
    await new Promise((resolve) => setTimeout(resolve, 100))
    recovered = await call(a, 'GET', '/api/health')
  }
  t.match(recovered.body, { data: { status: 'ok', cluster: { liveInstances: 2 } } }, 'recovered on its own')
  // Each instance's client reconnects on its own schedule: B recovers too, polled the same way.
  let listAgain = await call(b, 'GET', '/api/sessions')
  while (listAgain.status === 503) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    listAgain = await call(b, 'GET', '/api/sessions')
  }
  t.equal(listAgain.status, 200)
  t.same(listAgain.body, { success: true, data: { sessions: {}, total: 0 } })
})
