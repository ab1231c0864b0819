// The instance router's decisions, without Fastify or Redis: a store of plain maps stands in for
// the state store (only leases.holder, instances.live and sessions are asked).
import t from 'tap'
import { createInstanceRouter, snapshotFromMetadata } from '../plugins/instance-router.js'
import type { SessionSnapshot } from '../plugins/session-registry.js'
import { checkInstanceCall, signInstanceCall } from '../src/instance-signature.js'
import { StateStoreUnavailableError, type InstanceInfo, type LeaseHolder, type SessionMetadata, type StateStore } from '../src/state/state-store.js'

interface FakeStore {
  holders: Map<string, string>
  live: InstanceInfo[]
  sessions: Map<string, SessionMetadata & { status?: string }>
  down: boolean
}

function storeOf (fake: FakeStore): Pick<StateStore, 'leases' | 'instances' | 'sessions'> {
  const unavailable = (): never => { throw new StateStoreUnavailableError(new Error('connect ECONNREFUSED')) }
  return {
    leases: {
      holder: async (sessionId: string) => {
        if (fake.down) unavailable()
        const instanceId = fake.holders.get(sessionId)
        return instanceId === undefined
          ? undefined
          : { sessionId, instanceId, epoch: 1, expiresAt: Date.now() + 10_000 } satisfies LeaseHolder
      }
    },
    instances: { live: async () => fake.down ? unavailable() : fake.live },
    sessions: {
      get: async (sessionId: string) => fake.down ? unavailable() : fake.sessions.get(sessionId),
      list: async () => fake.down ? unavailable() : [...fake.sessions.values()]
    }
  } as unknown as Pick<StateStore, 'leases' | 'instances' | 'sessions'>
}

function localSnapshot (sessionId: string): SessionSnapshot {
  return { ...snapshotFromMetadata({ sessionId, createdAt: '2026-01-01T00:00:00.000Z', user: null }), status: 'qr' }
}

function routerFor (fake: FakeStore, local: string[] = [], shared = true) {
  return createInstanceRouter({
    store: storeOf(fake),
    instanceId: 'a',
    instanceUrl: 'http://a:3000',
    localSession: (sessionId) => local.includes(sessionId) ? localSnapshot(sessionId) : undefined,
    localSessions: () => local.map(localSnapshot),
    shared,
    retryAfterSeconds: 15
  })
}

const emptyStore = (): FakeStore => ({ holders: new Map(), live: [{ instanceId: 'a', url: 'http://a:3000' }, { instanceId: 'b', url: 'http://b:3000' }], sessions: new Map(), down: false })

t.test('place: here when held here or known nowhere; elsewhere at the live holder\'s URL', async (t) => {
  const fake = emptyStore()
  fake.holders.set('mine', 'a').set('theirs', 'b')
  const router = routerFor(fake)
  t.same(await router.place('mine', false), { kind: 'here' })
  t.same(await router.place('unknown', false), { kind: 'here' }, 'the local 404 is the answer one instance gives')
  t.same(await router.place('theirs', false), { kind: 'elsewhere', instanceId: 'b', url: 'http://b:3000' })
})

t.test('place: a holder that is not live, a lease moved under a forwarded call, an orphan: 503 with Retry-After', async (t) => {
  const fake = emptyStore()
  fake.holders.set('dead', 'c').set('theirs', 'b')
  fake.sessions.set('orphan', { sessionId: 'orphan', createdAt: '2026-01-01T00:00:00.000Z', user: null })
  const router = routerFor(fake)
  const unavailable = { code: 'SESSION_HOLDER_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 15 }
  await t.rejects(router.place('dead', false), unavailable)
  await t.rejects(router.place('theirs', true), unavailable, 'a forwarded call is never forwarded again')
  await t.rejects(router.place('orphan', false), unavailable)
  t.same(await router.place('orphan', false, true), { kind: 'here' }, 'or-stored: answered here from the store')
  t.same(await router.place('dead', false, true), { kind: 'here' })
})

t.test('place and list with the store down: 503 STATE_STORE_UNAVAILABLE', async (t) => {
  const fake = emptyStore()
  fake.down = true
  const router = routerFor(fake)
  await t.rejects(router.place('any', false), { code: 'STATE_STORE_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 5 })
  await t.rejects(router.listSessions(), { code: 'STATE_STORE_UNAVAILABLE' })
  t.same(await router.clusterStatus(), { instance: { id: 'a', url: 'http://a:3000', sessionsHeld: 0 }, cluster: null })
})

t.test('listSessions and session: local ones as the registry has them, the others from the store', async (t) => {
  const fake = emptyStore()
  fake.sessions.set('here', { sessionId: 'here', createdAt: '2026-01-01T00:00:00.000Z', user: null, status: 'connected' })
  fake.sessions.set('there', { sessionId: 'there', createdAt: '2026-01-01T00:00:00.000Z', user: { id: '62@s', name: null }, status: 'connected' })
  const router = routerFor(fake, ['here'])
  t.same((await router.listSessions()).map((session) => [session.sessionId, session.status, session.isConnected]), [['here', 'qr', false], ['there', 'connected', true]])
  t.equal((await router.session('there')).status, 'connected')
  await t.rejects(router.session('nobody'), { code: 'SESSION_NOT_FOUND' })
  t.same(await router.clusterStatus(), {
    instance: { id: 'a', url: 'http://a:3000', sessionsHeld: 1 },
    cluster: { liveInstances: 2, instances: [{ id: 'a', url: 'http://a:3000' }, { id: 'b', url: 'http://b:3000' }] }
  })
})

t.test('one process: the registry is the whole truth, the store is not asked', async (t) => {
  const fake = emptyStore()
  fake.down = true
  const router = routerFor(fake, ['here'], false)
  t.same((await router.listSessions()).map((session) => session.sessionId), ['here'])
  await t.rejects(router.session('there'), { code: 'SESSION_NOT_FOUND' })
  t.equal(await router.clusterStatus(), undefined)
})

t.test('instance signatures: valid, unsigned, and every way to get one wrong', async (t) => {
  const secret = 'a-shared-secret-of-16+'
  const call = { method: 'POST', url: '/api/messages/shop/text' }
  const now = 1_800_000_000_000
  const signed = signInstanceCall(secret, call, 'b', now)
  t.equal(checkInstanceCall(secret, call, signed, now + 1000), 'valid')
  t.equal(checkInstanceCall(secret, call, {}, now), 'unsigned')
  t.equal(checkInstanceCall('another-secret-of-16+', call, signed, now), 'invalid', 'another secret')
  t.equal(checkInstanceCall(secret, { ...call, url: '/api/messages/other/text' }, signed, now), 'invalid', 'another path')
  t.equal(checkInstanceCall(secret, { ...call, method: 'DELETE' }, signed, now), 'invalid', 'another method')
  t.equal(checkInstanceCall(secret, call, { ...signed, 'x-instance-from': 'c' }, now), 'invalid', 'another sender')
  t.equal(checkInstanceCall(secret, call, signed, now + 120_000), 'invalid', 'too old')
  t.equal(checkInstanceCall(undefined, call, signed, now), 'invalid', 'no secret here')
  t.equal(checkInstanceCall(secret, call, { ...signed, 'x-instance-signature': 'short' }, now), 'invalid')
})

// The call a pool send makes on a session's holder, against a real local HTTP server standing in
// for the holder: what it sends, and each kind of answer.
t.test('createHolderCaller: a signed call with the client\'s key; the holder\'s data, its error as the same error, or 503', async (t) => {
  const { createServer } = await import('node:http')
  const pino = (await import('pino')).default
  const { createHolderCaller } = await import('../plugins/instance-router.js')
  const received: Array<{ url: string | undefined, headers: Record<string, unknown>, body: string }> = []
  let answer: { status: number, body: string } = { status: 200, body: '{}' }
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => { body += chunk.toString() })
    request.on('end', () => {
      received.push({ url: request.url, headers: request.headers, body })
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const secret = 'holder-call-secret-0123456789'
  const callHolder = createHolderCaller({ secret, instanceId: 'a', timeoutMs: 5000, retryAfterSeconds: 15, logger: pino({ level: 'silent' }) })
  const call = { method: 'POST' as const, path: '/api/messages/shop/otp', body: { to: '6281' }, requestId: 'request-1', headers: { 'x-api-key': 'client-key' } }

  answer = { status: 200, body: JSON.stringify({ success: true, data: { sessionId: 'shop', messageId: 'm1' } }) }
  t.same(await callHolder({ instanceId: 'b', url }, 'shop', call), { sessionId: 'shop', messageId: 'm1' }, 'the holder\'s data')
  const [sent] = received
  t.equal(sent?.url, '/api/messages/shop/otp')
  t.same(JSON.parse(sent!.body), { to: '6281' })
  t.match(sent?.headers, { 'x-api-key': 'client-key', 'x-request-id': 'request-1', 'content-type': 'application/json' })
  t.equal(checkInstanceCall(secret, { method: 'POST', url: '/api/messages/shop/otp' }, sent!.headers as Record<string, string>), 'valid', 'signed as a forwarded call')

  answer = { status: 429, body: JSON.stringify({ success: false, message: 'tunggu 42 detik', error: 'OTP_COOLDOWN', retryAfter: 42 }) }
  await t.rejects(callHolder({ instanceId: 'b', url }, 'shop', call), { code: 'OTP_COOLDOWN', statusCode: 429, message: 'tunggu 42 detik', retryAfterSeconds: 42 })
  answer = { status: 400, body: JSON.stringify({ success: false, message: 'salah', error: 'OTP_INVALID', attemptsLeft: 2 }) }
  await t.rejects(callHolder({ instanceId: 'b', url }, 'shop', call), { code: 'OTP_INVALID', statusCode: 400, attemptsLeft: 2 })

  const unavailable = { code: 'SESSION_HOLDER_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 15 }
  answer = { status: 502, body: '<html>Bad Gateway</html>' }
  await t.rejects(callHolder({ instanceId: 'b', url }, 'shop', call), unavailable, 'not our JSON (a proxy between the two)')
  answer = { status: 500, body: JSON.stringify({ oops: true }) }
  await t.rejects(callHolder({ instanceId: 'b', url }, 'shop', call), unavailable, 'JSON without an error code')
  await t.rejects(callHolder({ instanceId: 'b', url: 'http://127.0.0.1:1' }, 'shop', call), unavailable, 'nothing listening')
})

t.test('runOnHolder: here for a local session and for one process; elsewhere through the holder caller', async (t) => {
  const fake = emptyStore()
  fake.holders.set('mine', 'a').set('theirs', 'b').set('orphan', 'gone')
  fake.sessions.set('orphan', { sessionId: 'orphan', createdAt: '2026-01-01T00:00:00.000Z', user: null })
  const calls: string[] = []
  const router = createInstanceRouter({
    store: storeOf(fake),
    instanceId: 'a',
    instanceUrl: 'http://a:3000',
    localSession: () => undefined,
    localSessions: () => [],
    shared: true,
    retryAfterSeconds: 15,
    callHolder: async (holder, sessionId, call) => { calls.push(`${holder.url} ${sessionId} ${call.path}`); return 'there' }
  })
  const call = { method: 'POST' as const, path: '/p', body: {}, requestId: 'r', headers: {} }
  t.equal(await router.runOnHolder('mine', async () => 'here', call), 'here')
  t.equal(await router.runOnHolder('theirs', async () => 'here', call), 'there')
  t.same(calls, ['http://b:3000 theirs /p'])
  await t.rejects(router.runOnHolder('orphan', async () => 'here', call), { code: 'SESSION_HOLDER_UNAVAILABLE' }, 'a holder that is not live')
  fake.down = true
  t.equal(await routerFor(fake, [], false).runOnHolder('theirs', async () => 'here', call), 'here', 'one process never asks the store')
})
