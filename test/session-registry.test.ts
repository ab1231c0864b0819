// The registry's policy with a scripted transport, for what the simulator cannot produce on cue:
// WhatsApp refusing a pairing code, never offering a QR, and a socket held in the middle of
// opening while the service shuts down. Everything else is tested against the simulator.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { pino } from 'pino'
import { wireEvents } from '../plugins/event-wiring.js'
import { createMessageSender } from '../plugins/message-sender.js'
import { createRestrictions } from '../plugins/restrictions.js'
import { createSessionRegistry, type SessionRegistry, type SessionRegistryOptions } from '../plugins/session-registry.js'
import { createRecentlyLeftSessions } from '../src/recently-left-sessions.js'
import type { ConnectionHandlers, Transport, WhatsAppConnection } from '../src/whatsapp-connection.js'
import { openRedisStateStore } from '../src/state/redis-state-store.js'
import { StateStoreUnavailableError, type StateStore } from '../src/state/state-store.js'
import { temporaryDirectory, type TestContext } from './helper.js'
import { createProducers, idleConsumers } from './helpers/event-producers.js'
import { startRedisServer } from './state/redis-server.js'

// AbortSignal.timeout does not keep a process alive; a server would, this test file must.
const keepAlive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(keepAlive))

interface ScriptedSocket { sessionId: string, handlers: ConnectionHandlers, closed: boolean }

function scriptedTransport (
  script: { offerQr?: boolean, pairing?: () => Promise<string>, opening?: Promise<void>, sending?: () => Promise<void> } = {}
): Transport & { sockets: ScriptedSocket[], opening: () => number } {
  const sockets: ScriptedSocket[] = []
  let opening = 0
  return {
    sockets,
    opening: () => opening,
    async connect (sessionId, directory, handlers) {
      opening++
      // With REDIS_URL the credentials are in the store: no folder.
      if (directory !== '') await mkdir(directory, { recursive: true })
      if (script.opening !== undefined) await script.opening
      const socket: ScriptedSocket = { sessionId, handlers, closed: false }
      sockets.push(socket)
      if (script.offerQr !== false) setImmediate(() => { if (!socket.closed) handlers.qr?.(`qr-${sessionId}`) })
      const connection: WhatsAppConnection = {
        requestPairingCode: script.pairing ?? (async () => 'ABCD1234'),
        sendText: async () => {
          await script.sending?.()
          return { messageId: 'm' }
        },
        sendMedia: async () => ({ messageId: 'm' }),
        lookup: async (phones) => new Map(phones.map((phone) => [phone, `${phone}@s.whatsapp.net`])),
        logout: async () => { socket.closed = true },
        close: async () => { socket.closed = true },
        credentialWrites: () => 0
      }
      return connection
    },
    // A folder holds linked credentials when it has a file named `linked` (the real check reads creds.json).
    hasLinkedCredentials: async (directory) => await stat(join(directory, 'linked')).then(() => true, () => false),
    close () {}
  }
}

function registryOptions (
  transport: Transport,
  authStateDirectory: string,
  overrides: Partial<SessionRegistryOptions> = {}
): SessionRegistryOptions {
  return {
    transport,
    authStateDirectory,
    logger: pino({ level: 'silent' }),
    restoreConcurrency: 2,
    maxPendingSessions: 20,
    maxSessions: 1000,
    unlinkedSessionTtlMs: 60_000,
    reconnectMaxAttempts: 3,
    reconnectBaseDelayMs: 10,
    reconnectMaxDelayMs: 100,
    qrWaitMs: 100,
    ...overrides
  }
}

t.test('create with a pairing code WhatsApp refuses: 502 with Retry-After, nothing kept, a retry can succeed', async (t) => {
  const directory = await temporaryDirectory(t)
  let refuse = true
  const transport = scriptedTransport({ pairing: async () => { if (refuse) throw new Error('bad-request'); return 'ABCD1234' } })
  const registry = createSessionRegistry(registryOptions(transport, directory))
  t.teardown(() => registry.closeAll())

  await t.rejects(registry.create('coded', '628123456789'), { code: 'PAIRING_CODE_FAILED', statusCode: 502, retryAfterSeconds: 5 })
  t.same(registry.list(), [], 'the half-made session is gone')
  t.same(await readdir(directory), [], 'and so is its folder')
  t.ok(transport.sockets.every((socket) => socket.closed), 'its socket is closed')

  refuse = false
  const created = await registry.create('coded', '628123456789')
  t.equal(created.pairingCode, 'ABCD1234', 'the same create, retried, works (it used to answer 409 SESSION_EXISTS)')
})

t.test('no QR offered in time: 503 QR_NOT_AVAILABLE with Retry-After (it used to be a 404 for a session that exists)', async (t) => {
  const directory = await temporaryDirectory(t)
  const registry = createSessionRegistry(registryOptions(scriptedTransport({ offerQr: false }), directory))
  t.teardown(() => registry.closeAll())
  await registry.create('silent')
  await t.rejects(registry.qr('silent'), { code: 'QR_NOT_AVAILABLE', statusCode: 503, retryAfterSeconds: 5 })
  await t.rejects(registry.requestPairingCode('silent', '628123456789'), { code: 'QR_NOT_AVAILABLE', statusCode: 503 })
})

t.test('shutdown during a restore stops the queue and closes every socket it opened', async (t) => {
  const directory = await temporaryDirectory(t)
  for (let index = 0; index < 10; index++) {
    await mkdir(join(directory, `linked-${index}`))
    await writeFile(join(directory, `linked-${index}`, 'linked'), '')
  }
  let release: () => void = () => {}
  const opening = new Promise<void>((resolve) => { release = resolve })
  const transport = scriptedTransport({ opening })
  const registry = createSessionRegistry(registryOptions(transport, directory))

  t.equal(await registry.restoreAll(), 10, 'restoreAll returns once the sessions are listed')
  t.equal(registry.list().length, 10)
  t.same(registry.counts().restore, { total: 10, done: 0, pending: 10 })
  t.throws(() => registry.connection('linked-0'), { code: 'SESSION_NOT_CONNECTED', statusCode: 503, retryAfterSeconds: 5 }, 'on its way back: 503 with Retry-After')

  while (transport.opening() < 2) await new Promise((resolve) => setImmediate(resolve))
  const closed = registry.closeAll()
  release()
  await closed
  t.equal(transport.sockets.length, 2, 'only the sockets already opening were opened (concurrency 2)')
  t.ok(transport.sockets.every((socket) => socket.closed), 'and they were closed')
  t.ok(registry.list().every((session) => session.status === 'closed'))
})

t.test('sessions waiting for their first scan are limited; linked ones count only against the total', async (t) => {
  const directory = await temporaryDirectory(t)
  await mkdir(join(directory, 'old'))
  await writeFile(join(directory, 'old', 'linked'), '')
  const registry = createSessionRegistry(registryOptions(scriptedTransport(), directory, { maxPendingSessions: 2 }))
  t.teardown(() => registry.closeAll())
  await registry.restoreAll()

  await registry.create('a')
  await registry.create('b')
  await t.rejects(registry.create('c'), { code: 'SESSION_PENDING_LIMIT', statusCode: 429, retryAfterSeconds: 60, message: /menunggu scan QR \(maksimal 2\)/ })
  t.equal(registry.counts().waitingForScan, 2, 'the restored linked session is not waiting for a scan')
  await registry.remove('a')
  await registry.create('c')

  const otherDirectory = await temporaryDirectory(t)
  await mkdir(join(otherDirectory, 'old'))
  await writeFile(join(otherDirectory, 'old', 'linked'), '')
  const full = createSessionRegistry(registryOptions(scriptedTransport(), otherDirectory, { maxSessions: 1 }))
  t.teardown(() => full.closeAll())
  await full.restoreAll()
  await t.rejects(full.create('d'), { code: 'SESSION_LIMIT', statusCode: 409, message: /batas \(maksimal 1\)/ })
})

t.test('the restore runs restoreConcurrency logins at a time, each to its end, in the background', async (t) => {
  const directory = await temporaryDirectory(t)
  for (let index = 0; index < 5; index++) {
    await mkdir(join(directory, `linked-${index}`))
    await writeFile(join(directory, `linked-${index}`, 'linked'), '')
  }
  const transport = scriptedTransport({ offerQr: false })
  const registry = createSessionRegistry(registryOptions(transport, directory))
  t.teardown(() => registry.closeAll())
  await registry.restoreAll()
  const settle = async (count: number): Promise<void> => {
    while (transport.sockets.length < count) await new Promise((resolve) => setImmediate(resolve))
  }
  await settle(2)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(transport.sockets.length, 2, 'sockets created, logins still running: no third one')
  transport.sockets[0].handlers.open?.({ id: '628100000000:1@s.whatsapp.net', name: null })
  transport.sockets[1].handlers.close?.({ kind: 'connection-lost', statusCode: 428, message: 'lost' })
  await settle(4)
  t.same(registry.counts().restore, { total: 5, done: 2, pending: 3 })
  t.equal(registry.get(transport.sockets[0].sessionId).status, 'connected')
})

// With REDIS_URL: a store on a redis-server of the test's own, and registries on it as instances.
async function sharedStore (t: TestContext): Promise<StateStore> {
  const redis = await startRedisServer(t)
  const store = await openRedisStateStore({ url: redis.url })
  t.teardown(() => store.close())
  return store
}

function sharedRegistryOptions (
  store: StateStore,
  instanceId: string,
  transport: Transport,
  authStateDirectory: string,
  leaseMs = 3000
): SessionRegistryOptions {
  return registryOptions(transport, authStateDirectory, { shared: { store, instanceId, instanceUrl: `http://${instanceId}`, leaseMs } })
}

// A registry on a Redis of its own, as instance 'here'.
interface SharedRegistry { store: StateStore, transport: ReturnType<typeof scriptedTransport>, registry: SessionRegistry }
async function sharedRegistry (t: TestContext, leaseMs: number, transport = scriptedTransport()): Promise<SharedRegistry> {
  const store = await sharedStore(t)
  const registry = createSessionRegistry(sharedRegistryOptions(store, 'here', transport, await temporaryDirectory(t), leaseMs))
  t.teardown(() => registry.closeAll())
  return { store, transport, registry }
}

// A create that failed after it took the session's lease kept the lease, and the ownership's
// renewal entry for it: the id stayed taken (409 on every instance) until the lease ran out.
t.test('with REDIS_URL a create that fails after taking the lease gives it back', async (t) => {
  const store = await sharedStore(t)
  const directory = await temporaryDirectory(t)
  const here = createSessionRegistry(sharedRegistryOptions(store, 'here', scriptedTransport(), directory))
  t.teardown(() => here.closeAll())
  const elsewhere = createSessionRegistry(sharedRegistryOptions(store, 'elsewhere', scriptedTransport(), directory))
  t.teardown(() => elsewhere.closeAll())

  // Clearing the old credentials fails: the store went away between the lease and the write.
  const deleteCredentials = store.authState.delete
  store.authState.delete = async () => { throw new StateStoreUnavailableError(new Error('connection refused')) }
  await t.rejects(here.create('unlucky'), StateStoreUnavailableError)
  store.authState.delete = deleteCredentials
  t.same(here.list(), [], 'not listed')
  t.equal(await store.leases.holder('unlucky'), undefined, 'its lease is given back')
  t.match(await elsewhere.create('unlucky'), { sessionId: 'unlucky' }, 'so another instance can create it at once')

  // A refused pairing code undoes the create; removing the metadata fails, the lease goes all the same.
  const refusing = createSessionRegistry(sharedRegistryOptions(store, 'refusing', scriptedTransport({ pairing: async () => { throw new Error('bad-request') } }), directory))
  t.teardown(() => refusing.closeAll())
  const deleteMetadata = store.sessions.delete
  store.sessions.delete = async () => { throw new StateStoreUnavailableError(new Error('connection refused')) }
  await t.rejects(refusing.create('coded', '628123456789'))
  store.sessions.delete = deleteMetadata
  t.same(refusing.list(), [], 'not listed')
  t.equal(await store.leases.holder('coded'), undefined, 'its lease is given back')
})

// A session whose lease moved on kept everything the other plugins hold of it on the old
// instance: its send queue (a waiting send got SESSION_NOT_FOUND for a session that exists), its
// number lookups and its restriction with the restriction's timer, for as long as the process ran.
t.test('with REDIS_URL a session whose lease is lost leaves this instance: its local state goes, its shared state stays', async (t) => {
  let releaseSend = (): void => {}
  const sendHeld = new Promise<void>((resolve) => { releaseSend = resolve })
  const { store, transport, registry } = await sharedRegistry(t, 600, scriptedTransport({ sending: async () => await sendHeld }))
  const logger = pino({ level: 'silent' })
  const sender = createMessageSender({
    sessions: registry, logger, minGapMs: 0, maxQueued: 5, maxWaitMs: 60_000, holderRetryAfterSeconds: 7
  })
  t.teardown(() => sender.close())
  const restrictions = createRestrictions({ logger, chats: store.chats })
  t.teardown(() => restrictions.close())
  registry.describeRestrictionWith(restrictions.describe)
  const producers = { ...createProducers(), sessions: registry.events, messageSender: sender.events, restrictions: restrictions.events }
  const wiring = wireEvents(producers, idleConsumers({ messageSender: sender, restrictions }), logger)
  t.teardown(wiring.unwire)
  const heard: string[] = []
  registry.events.on('removed', ({ sessionId }) => { heard.push(`removed:${sessionId}`) })
  registry.events.on('left', ({ sessionId }) => { heard.push(`left:${sessionId}`) })

  await registry.create('moving')
  const socket = transport.sockets[0]
  socket.handlers.open?.({ id: '628100000001:1@s.whatsapp.net', name: null })
  socket.handlers.restriction?.({ source: 'timelock', active: true, until: new Date(Date.now() + 3_600_000), reason: 'reach-out timelock' })
  socket.handlers.messageReceived?.({ messageId: 'M1', from: '628123456789@s.whatsapp.net', phone: '628123456789', pushName: null, text: 'halo', timestamp: 0 })
  t.match(registry.get('moving'), { status: 'connected', restriction: { newChats: 'blocked' } })
  const sending = sender.sendText('moving', '628123456789', 'in flight').catch((error: unknown) => error)
  const waiting = sender.sendText('moving', '628123456789', 'waiting').catch((error: unknown) => error)

  // Another instance takes the lease (this one was paused past it); the first round notices.
  const lease = await store.leases.holder('moving')
  await store.leases.release(lease!)
  await store.leases.acquire('moving', 'there', 60_000)
  const closed = new Promise((resolve) => registry.events.on('state', ({ status }) => { if (status === 'closed') resolve(null) }))
  await registry.restoreAll()
  await closed
  t.same(heard, ['left:moving'], 'it left this instance; it is not removed: it still exists in the cluster')
  releaseSend()
  await sending

  t.match(await waiting, { code: 'SESSION_HOLDER_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 7 }, 'the waiting send is told to come back: the new holder sends it')
  t.same(registry.list(), [], 'gone from this instance')
  t.equal(restrictions.describe('moving'), null, 'its restriction as this instance knew it is forgotten')
  t.equal(restrictions.restrictedCount(), 0)
  t.same(Object.fromEntries(await store.chats.sessionsChattingWith('628123456789', ['moving'])), { moving: 'contact' }, 'its chats stay for the new holder')
  t.match(await store.sessions.get('moving'), { sessionId: 'moving', linked: true }, 'and so does its metadata')
})

t.test('with REDIS_URL a session handed over for fair share leaves this instance: its lease is released, nothing shared is removed', async (t) => {
  const { store, transport, registry } = await sharedRegistry(t, 600)
  const heard: string[] = []
  registry.events.on('removed', ({ sessionId }) => { heard.push(`removed:${sessionId}`) })
  registry.events.on('left', ({ sessionId }) => { heard.push(`left:${sessionId}`) })
  const sessionIds = ['s1', 's2', 's3', 's4']
  for (const [index, sessionId] of sessionIds.entries()) {
    await registry.create(sessionId)
    transport.sockets[index].handlers.open?.({ id: `62810000000${index}:1@s.whatsapp.net`, name: null })
  }
  // Two live instances: the fair share is ceil(4 / 2) + 1 = 3, so this one hands one over.
  await store.instances.heartbeat({ instanceId: 'there', url: 'http://there' }, 60_000)
  const closed = new Promise<string>((resolve) => registry.events.on('state', ({ sessionId, status }) => { if (status === 'closed') resolve(sessionId) }))
  await registry.restoreAll()
  const handedOver = await closed
  // Its lease is released, then 'left' is emitted: settled once the release landed and the turn ended.
  while (await store.leases.holder(handedOver) !== undefined) await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  t.same(heard, [`left:${handedOver}`], 'it left this instance; it is not removed')
  t.equal(registry.list().length, 3)
  t.match(await store.sessions.get(handedOver), { sessionId: handedOver, linked: true }, 'its metadata stays')
})

// A session that left this instance still exists in the cluster, but a call that reached this
// instance's registry as it moved (placed here by the router just before, or before the router
// saw the new holder) was answered 404 SESSION_NOT_FOUND: a client told so may create the session
// again or give up. It is the router's answer for a session between holders now: 503 and Retry-After.
t.test('with REDIS_URL a session that left this instance answers 503 SESSION_HOLDER_UNAVAILABLE with Retry-After, not 404; a removed one still 404', async (t) => {
  const { store, transport, registry } = await sharedRegistry(t, 1500)
  const sender = createMessageSender({
    sessions: registry, logger: pino({ level: 'silent' }), minGapMs: 0, maxQueued: 5, maxWaitMs: 60_000, holderRetryAfterSeconds: 2
  })
  t.teardown(() => sender.close())
  await registry.create('moving')
  transport.sockets[0].handlers.open?.({ id: '628100000001:1@s.whatsapp.net', name: null })

  // Another instance takes the lease (this one was paused past it); the first round notices.
  await store.leases.release((await store.leases.holder('moving'))!)
  await store.leases.acquire('moving', 'there', 60_000)
  const left = new Promise((resolve) => registry.events.once('left', resolve))
  await registry.restoreAll()
  await left

  const moved = { code: 'SESSION_HOLDER_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 2 }
  t.throws(() => registry.get('moving'), moved, 'status')
  t.throws(() => registry.connection('moving'), moved, 'the connection a send asks for')
  t.throws(() => sender.assertCanSend('moving'), moved, 'the check before an OTP is reserved')
  await t.rejects(sender.sendText('moving', '628123456789', 'halo'), moved, 'a send')
  await t.rejects(registry.qr('moving'), moved, 'a QR')
  await t.rejects(registry.restart('moving'), moved, 'a restart')
  await t.rejects(registry.remove('moving'), moved, 'a delete: the new holder carries it out')
  t.throws(() => registry.get('never-here'), { code: 'SESSION_NOT_FOUND', statusCode: 404 }, 'a session this instance never had is still 404')

  // Its lease is free again: this instance takes it back (the scripted socket offers a QR when it
  // opens), and it is its own session again.
  const back = new Promise((resolve) => registry.events.on('qr', ({ sessionId }) => { if (sessionId === 'moving') resolve(null) }))
  await store.leases.release((await store.leases.holder('moving'))!)
  await back
  t.match(registry.get('moving'), { sessionId: 'moving' }, 'back here')
  t.throws(() => registry.connection('moving'), { code: 'SESSION_NOT_CONNECTED' }, 'its own answers again')
  await registry.remove('moving')
  t.throws(() => registry.get('moving'), { code: 'SESSION_NOT_FOUND', statusCode: 404 }, 'removed: 404, as before')
  t.throws(() => sender.assertCanSend('moving'), { code: 'SESSION_NOT_FOUND', statusCode: 404 })
})

t.test('the sessions that left are remembered for one lease time only, and not once back here', async (t) => {
  let now = 0
  const recentlyLeft = createRecentlyLeftSessions({ forgetAfterMs: 15_000, retryAfterSeconds: 15, clock: () => now })
  const moved = { code: 'SESSION_HOLDER_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 15 }
  const notFound = { code: 'SESSION_NOT_FOUND', statusCode: 404 }
  recentlyLeft.add('early')
  now = 10_000
  recentlyLeft.add('late')
  recentlyLeft.add('back')
  recentlyLeft.delete('back')
  t.match(recentlyLeft.notHere('early'), moved)
  t.match(recentlyLeft.notHere('back'), notFound, 'taken back or created here: its own answers again')
  now = 15_000
  t.match(recentlyLeft.notHere('early'), notFound, 'forgotten after one lease time: the router answers for it by then')
  t.match(recentlyLeft.notHere('late'), moved)
  recentlyLeft.add('late')
  now = 29_000
  t.match(recentlyLeft.notHere('late'), moved, 'leaving again starts its time again')
  now = 30_000
  t.match(recentlyLeft.notHere('late'), notFound)
})
