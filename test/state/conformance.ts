import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Test } from 'tap'
import { BufferJSON, initAuthCreds, proto, type AuthenticationCreds } from '@whiskeysockets/baileys'
import { openSessionAuthFiles, type AuthStateCodec } from '../../src/auth-state-files.js'
import { createOtpService } from '../../src/otp-service.js'
import { createStateOtpStore } from '../../src/otp-state-store.js'
import { importAuthStateFolders, importedMarkerFileName } from '../../src/state/import-auth-state.js'
import { openSessionAuthState } from '../../src/state/session-auth-state.js'
import { StaleLeaseError, type StateStore, type WebhookDelivery } from '../../src/state/state-store.js'
import { temporaryDirectory } from '../helper.js'

// One suite, run against every StateStore implementation: whatever one passes, the other must too.

export interface StateStoreHarness {
  // Opens one more store on the same backing state: another connection, or another handle on
  // the same files. Each is closed at teardown.
  open: () => Promise<StateStore>
  // The time the stores see.
  now: () => number
  // Lets `milliseconds` pass for the stores: a fake clock moves, or real time passes (Redis
  // expires keys on its own clock, so its harness waits).
  advance: (milliseconds: number) => Promise<void>
  // A lifetime the harness can let run out with `advance` (short on a real clock).
  shortTtlMs: number
}

// Long enough never to run out during a test, under any load.
const longTtlMs = 10 * 60 * 1000

interface Attempt { attemptsLeft: number, used: boolean }

// WhatsApp's own codec, as the transport uses it: Buffers survive as BufferJSON.
const whatsappCodec: AuthStateCodec<AuthenticationCreds> = {
  serialize: (value) => JSON.stringify(value, BufferJSON.replacer),
  deserialize: (text) => JSON.parse(text, BufferJSON.reviver) as unknown,
  createCredentials: initAuthCreds,
  isLinked: (credentials) => credentials.account != null && credentials.me != null,
  reviveKey: (category, value) => category === 'app-state-sync-key'
    ? proto.Message.AppStateSyncKeyData.fromObject(value as Record<string, unknown>)
    : value,
  keptOnDisk: ['pre-key'],
  keptPerKey: ['session', 'identity-key', 'device-list', 'lid-mapping', 'tctoken']
}

function delivery (id: string, nextAttemptAt: number): WebhookDelivery {
  return { id, event: 'otp.sent', url: 'http://127.0.0.1:1/hook', body: `{"id":"${id}"}`, attempts: 0, createdAt: nextAttemptAt, nextAttemptAt }
}

export function stateStoreConformance (t: Test, createHarness: (t: Test) => Promise<StateStoreHarness>): void {
  t.test('records: read, atomic update, delete, kinds kept apart', async (t) => {
    const harness = await createHarness(t)
    const store = await harness.open()
    const otp = store.records<{ count: number }>('otp')
    t.equal(await otp.get('6281234'), undefined)
    const first = await otp.update('6281234', (current) => ({ value: { count: (current?.count ?? 0) + 1 }, result: current }))
    t.equal(first, undefined, 'the change saw no record')
    const second = await otp.update('6281234', (current) => ({ value: { count: (current?.count ?? 0) + 1 }, result: current }))
    t.same(second, { count: 1 }, 'the change saw the stored record')
    t.same(await otp.get('6281234'), { count: 2 })
    t.equal(await store.records('verification').get('6281234'), undefined, 'another kind has its own keys')

    await t.rejects(otp.update('6281234', () => { throw new Error('refused') }), /refused/)
    t.same(await otp.get('6281234'), { count: 2 }, 'a change that throws writes nothing')

    t.equal(await otp.update('6281234', () => ({ value: undefined, result: 'gone' })), 'gone')
    t.equal(await otp.get('6281234'), undefined, 'an undefined value deletes the record')

    await otp.update('6281234', () => ({ value: { count: 5 }, result: null }))
    await otp.delete('6281234')
    t.equal(await otp.get('6281234'), undefined)

    const other = await harness.open()
    await otp.update('session-a:message-1', () => ({ value: { count: 9 }, result: null }))
    t.same(await other.records('otp').get('session-a:message-1'), { count: 9 }, 'visible through another handle at once')
  })

  t.test('records: an update that finds nothing and stores nothing answers from the read', async (t) => {
    const harness = await createHarness(t)
    const store = await harness.open()
    const otp = store.records<{ count: number }>('otp')
    const seen: Array<{ count: number } | undefined> = []
    t.equal(await otp.update('628777', (current) => {
      seen.push(current)
      return { value: undefined, result: 'not-found' }
    }), 'not-found')
    t.same(seen, [undefined], 'the change saw no record')
    t.equal(await otp.get('628777'), undefined)
    await t.rejects(otp.update('628777', () => { throw new RangeError('refused') }), RangeError, 'a change that throws still rejects with its error')
    t.same(await otp.update('628777', (current) => ({ value: { count: (current?.count ?? 0) + 1 }, result: current })), undefined)
    t.same(await otp.get('628777'), { count: 1 }, 'a change that stores something is written')
    t.same(await otp.update('628777', (current) => ({ value: undefined, result: current })), { count: 1 }, 'and one that deletes it sees it')
    t.equal(await otp.get('628777'), undefined)

    // A record that ran out is still cleared by a change that keeps nothing.
    await otp.update('628778', () => ({ value: { count: 1 }, result: null, expiresAt: harness.now() + harness.shortTtlMs }))
    await harness.advance(harness.shortTtlMs + 20)
    t.equal(await otp.update('628778', (current) => ({ value: undefined, result: current })), undefined)
    t.equal(await otp.get('628778'), undefined)
  })

  t.test('records expire at expiresAt', async (t) => {
    const harness = await createHarness(t)
    const store = await harness.open()
    const statuses = store.records<{ status: string }>('message-status')
    await statuses.update('s:short', () => ({ value: { status: 'sent' }, result: null, expiresAt: harness.now() + harness.shortTtlMs }))
    await statuses.update('s:long', () => ({ value: { status: 'sent' }, result: null, expiresAt: harness.now() + longTtlMs }))
    await statuses.update('s:forever', () => ({ value: { status: 'sent' }, result: null }))
    t.same(await statuses.get('s:short'), { status: 'sent' })
    await harness.advance(harness.shortTtlMs + 20)
    t.equal(await statuses.get('s:short'), undefined, 'gone after its time')
    t.equal(await statuses.update('s:short', (current) => ({ value: current, result: current })), undefined, 'update sees it gone too')
    t.same(await statuses.get('s:long'), { status: 'sent' })
    t.same(await statuses.get('s:forever'), { status: 'sent' })

    await statuses.update('s:long', (current) => ({ value: current, result: null, expiresAt: harness.now() - 1 }))
    t.equal(await statuses.get('s:long'), undefined, 'an expiry in the past deletes')
  })

  t.test('records: 50 concurrent verify-like updates through two handles, exactly one succeeds', async (t) => {
    const harness = await createHarness(t)
    const stores = [await harness.open(), await harness.open()]
    await stores[0]!.records<Attempt>('otp').update('628555', () => ({ value: { attemptsLeft: 5, used: false }, result: null, expiresAt: harness.now() + longTtlMs }))
    const outcomes = await Promise.all(Array.from({ length: 50 }, async (_, index) => {
      const records = stores[index % 2]!.records<Attempt>('otp')
      return await records.update('628555', (current) => {
        if (current === undefined || current.used) return { value: current, result: 'used', expiresAt: harness.now() + longTtlMs }
        return { value: { ...current, used: true }, result: 'ok', expiresAt: harness.now() + longTtlMs }
      })
    }))
    t.equal(outcomes.filter((outcome) => outcome === 'ok').length, 1)
    t.equal(outcomes.filter((outcome) => outcome === 'used').length, 49)

    // No lost update either: every one of 50 concurrent increments counts.
    await Promise.all(Array.from({ length: 50 }, async (_, index) => {
      await stores[index % 2]!.records<Attempt>('otp').update('628555', (current) => ({
        value: { attemptsLeft: (current?.attemptsLeft ?? 0) + 1, used: true }, result: null
      }))
    }))
    t.same(await stores[1]!.records<Attempt>('otp').get('628555'), { attemptsLeft: 55, used: true })
  })

  // The OTP service's own records through this store: the verification id kept with a code (what
  // cancel voids by) survives the store's encoding, on a handle other than the writer's.
  t.test('OTP records: a code is voided by its own verification only', async (t) => {
    const harness = await createHarness(t)
    const [writer, reader] = await Promise.all([harness.open(), harness.open()]).then((stores) => stores.map((store) => createOtpService({
      store: createStateOtpStore(store), secret: 'conformance-secret', clock: harness.now, length: 6, ttlSeconds: 300, maxAttempts: 5, cooldownSeconds: 0, maxPerHour: 10
    })))
    const wrong = (code: string): string => code === '000000' ? '111111' : '000000'
    const older = await writer.reserveSend('628900', { verificationId: 'older' })
    await writer.commit(older)
    const newer = await writer.reserveSend('628900', { verificationId: 'newer' })
    await writer.commit(newer)
    t.equal(await reader.voidCode('628900', 'older'), false, 'the older verification leaves the newer code')
    await t.rejects(reader.verify('628900', wrong(newer.code)), { code: 'OTP_INVALID', attemptsLeft: 4 })
    t.equal(await reader.voidCode('628900', 'newer'), true)
    await t.rejects(writer.verify('628900', newer.code), { code: 'OTP_NOT_FOUND' })
    await t.rejects(writer.verify('628900', wrong(newer.code)), { code: 'OTP_NOT_FOUND' })

    const withoutId = await writer.reserveSend('628901')
    await writer.commit(withoutId)
    t.equal(await reader.voidCode('628901', 'older'), false, 'a code committed without an id is voided by none')
    await t.resolves(reader.verify('628901', withoutId.code))
  })

  t.test('chats: recorded per session, read for several sessions at once, expire, forgotten with their session', async (t) => {
    const harness = await createHarness(t)
    const [store, other] = [await harness.open(), await harness.open()]
    const until = harness.now() + longTtlMs
    const chatting = async (handle: StateStore, phone: string, sessionIds: string[]): Promise<Record<string, string>> =>
      Object.fromEntries(await handle.chats.sessionsChattingWith(phone, sessionIds))
    t.equal(await store.chats.record('sales', '6281001', until, 'account'), true, 'a new chat')
    t.equal(await store.chats.record('sales', '6281001', harness.now() + harness.shortTtlMs, 'account'), false, 'known: not new, and its later end stays')
    t.equal(await store.chats.record('support', '6281001', harness.now() + harness.shortTtlMs, 'contact'), true)
    t.equal(await store.chats.record('support', '6281002', until, 'account'), true)
    t.same(await chatting(other, '6281001', ['sales', 'support', 'billing']), { sales: 'account', support: 'contact' }, 'through another handle, one call for three sessions')
    t.same(await chatting(other, '6281009', ['sales', 'support']), {})
    t.same(await chatting(other, '6281001', []), {})
    t.equal(await store.chats.record('sales', '6281001', harness.now() + harness.shortTtlMs, 'contact'), false, 'the number writes in a known chat: not new')
    t.same(await chatting(other, '6281001', ['sales']), { sales: 'contact' }, 'the number wrote')

    await harness.advance(harness.shortTtlMs + 20)
    t.same(await chatting(store, '6281001', ['sales', 'support']), { sales: 'account' }, 'chats recorded for a short time ran out; the number\'s message in sales too, not the chat')
    t.equal(await store.chats.record('support', '6281001', until, 'account'), true, 'an expired chat recorded again is new again')

    await store.chats.forgetSession('support')
    t.same(await chatting(other, '6281002', ['support']), {}, 'gone with its session')
    t.same(await chatting(other, '6281001', ['sales', 'support']), { sales: 'account' }, 'another session keeps its own')
    await t.rejects(store.chats.record('no:colons', '6281001', until, 'contact'), /not usable/)
  })

  t.test('session metadata: update, list, delete', async (t) => {
    const harness = await createHarness(t)
    const store = await harness.open()
    const metadata = (sessionId: string) => ({ sessionId, createdAt: '2026-01-01T00:00:00.000Z', user: null })
    await store.sessions.update('sales', () => ({ value: metadata('sales'), result: null }))
    await store.sessions.update('support', () => ({ value: metadata('support'), result: null }))
    await store.sessions.update('support', (current) => ({ value: { ...current!, user: { id: '628111@s.whatsapp.net', name: null } }, result: null }))
    const listed = (await (await harness.open()).sessions.list()).sort((first, second) => first.sessionId.localeCompare(second.sessionId))
    t.same(listed, [metadata('sales'), { ...metadata('support'), user: { id: '628111@s.whatsapp.net', name: null } }])
    await store.sessions.delete('sales')
    await store.sessions.update('support', () => ({ value: undefined, result: null }))
    t.same(await store.sessions.list(), [])
    await t.rejects(store.sessions.update('no:colons', () => ({ value: metadata('x'), result: null })), /not usable/)
  })

  t.test('webhook deliveries: due order, claims hidden for their lease, taken over after it', async (t) => {
    const harness = await createHarness(t)
    const [one, two] = [await harness.open(), await harness.open()]
    const now = harness.now()
    await one.webhookDeliveries.enqueue(delivery('later', now + longTtlMs))
    await one.webhookDeliveries.enqueue(delivery('second', now - 1))
    await one.webhookDeliveries.enqueue(delivery('first', now - 2))
    t.same(await two.webhookDeliveries.stats(), { pending: 3, retrying: 0, delivered: 0, failed: 0 })
    t.equal(await two.webhookDeliveries.nextDueAt(), now - 2)

    const claimed = await one.webhookDeliveries.claim(10, harness.shortTtlMs)
    t.same(claimed.map((item) => item.id), ['first', 'second'], 'only due deliveries, oldest first')
    t.same(await two.webhookDeliveries.claim(10, longTtlMs), [], 'a claimed delivery is hidden from others')

    // The first instance dies holding both claims; after the lease another instance gets them.
    await harness.advance(harness.shortTtlMs + 20)
    const takenOver = await two.webhookDeliveries.claim(1, longTtlMs)
    t.same(takenOver.map((item) => item.id), ['first'], 'limit respected')
    t.equal(await one.webhookDeliveries.ack(claimed[0]!), false, 'the dead claim cannot ack what another instance now holds')
    t.equal(await two.webhookDeliveries.ack(takenOver[0]!), true)
    t.equal(await two.webhookDeliveries.ack(takenOver[0]!), false, 'acked once only')

    // A claim that ran out but was not taken by anyone can still be settled by its holder.
    t.equal(await one.webhookDeliveries.retry(claimed[1]!, harness.now() + harness.shortTtlMs), true)
    t.same(await one.webhookDeliveries.stats(), { pending: 2, retrying: 1, delivered: 1, failed: 0 })
    t.same(await one.webhookDeliveries.claim(10, longTtlMs), [], 'not due before its next attempt')
    await harness.advance(harness.shortTtlMs + 20)
    const retried = await two.webhookDeliveries.claim(10, longTtlMs)
    t.same(retried.map((item) => [item.id, item.attempts]), [['second', 1]], 'due again, with its attempt counted')
    t.equal(await two.webhookDeliveries.fail(retried[0]!), true)
    t.same(await two.webhookDeliveries.stats(), { pending: 1, retrying: 0, delivered: 1, failed: 1 })
    t.equal(await one.webhookDeliveries.nextDueAt(), now + longTtlMs)
  })

  t.test('webhook deliveries: an extended claim stays hidden past its first lease; a lost or settled one cannot be extended', async (t) => {
    const harness = await createHarness(t)
    const [one, two] = [await harness.open(), await harness.open()]
    const leaseMs = harness.shortTtlMs
    for (const id of ['in-flight', 'dead', 'retried']) await one.webhookDeliveries.enqueue(delivery(id, harness.now() - 1))
    const claimed = new Map((await one.webhookDeliveries.claim(10, leaseMs)).map((item) => [item.id, item]))
    const [inFlight, dead, retried] = ['in-flight', 'dead', 'retried'].map((id) => claimed.get(id)!)

    await harness.advance(leaseMs / 2)
    t.equal(await one.webhookDeliveries.extend(inFlight, leaseMs), true, 'the holder extends the claim of a request in flight')
    const retryAt = harness.now() + longTtlMs
    t.equal(await one.webhookDeliveries.retry(retried, retryAt), true)
    t.equal(await one.webhookDeliveries.extend(retried, leaseMs), false, 'a late extension after the result was written changes nothing')
    await harness.advance(leaseMs / 2 + 20)
    const takenOver = await two.webhookDeliveries.claim(10, longTtlMs)
    t.same(takenOver.map((item) => item.id), ['dead'], 'past the first lease only the claim nobody extended is taken over')
    t.equal(await one.webhookDeliveries.extend(dead, leaseMs), false, 'a claim taken over cannot be extended')
    t.equal(await one.webhookDeliveries.ack(dead), false, 'nor settled by its first holder')
    t.equal(await two.webhookDeliveries.ack(takenOver[0]!), true)
    t.equal(await one.webhookDeliveries.ack(inFlight), true)
    t.equal(await one.webhookDeliveries.extend(inFlight, leaseMs), false, 'a settled claim cannot be extended')
    t.same(await two.webhookDeliveries.stats(), { pending: 1, retrying: 1, delivered: 2, failed: 0 }, 'each delivery counted once')
    t.equal(await two.webhookDeliveries.nextDueAt(), retryAt, 'the retried delivery keeps the next attempt written')
  })

  t.test('webhook deliveries: concurrent claims from two handles never hand one delivery out twice', async (t) => {
    const harness = await createHarness(t)
    const [one, two] = [await harness.open(), await harness.open()]
    for (let index = 0; index < 40; index++) await one.webhookDeliveries.enqueue(delivery(`d${index}`, harness.now() - 1))
    const batches = await Promise.all(Array.from({ length: 20 }, async (_, index) =>
      await (index % 2 === 0 ? one : two).webhookDeliveries.claim(3, longTtlMs)))
    const ids = batches.flat().map((item) => item.id)
    t.equal(ids.length, 40)
    t.equal(new Set(ids).size, 40, 'each delivery claimed once')
  })

  t.test('leases: one holder, epochs grow, expiry, release', async (t) => {
    const harness = await createHarness(t)
    const [one, two] = [await harness.open(), await harness.open()]
    const first = await one.leases.acquire('sales', 'instance-a', longTtlMs)
    t.same(first, { sessionId: 'sales', instanceId: 'instance-a', epoch: 1 })
    t.equal(await two.leases.acquire('sales', 'instance-b', longTtlMs), undefined, 'held by another instance')
    const holder = await two.leases.holder('sales')
    t.match(holder, { sessionId: 'sales', instanceId: 'instance-a', epoch: 1 })
    t.ok(holder!.expiresAt > harness.now() && holder!.expiresAt <= harness.now() + longTtlMs + 1000)
    t.equal(await one.leases.renew(first!, longTtlMs), true)

    const again = await one.leases.acquire('sales', 'instance-a', longTtlMs)
    t.equal(again?.epoch, 2, 'each acquisition counts, even by the same holder')
    t.equal(await one.leases.renew(first!, longTtlMs), false, 'the older epoch is stale')

    await one.leases.release(first!)
    t.match(await two.leases.holder('sales'), { epoch: 2 }, 'releasing a stale lease changes nothing')
    await one.leases.release(again!)
    t.equal(await two.leases.holder('sales'), undefined)
    const taken = await two.leases.acquire('sales', 'instance-b', harness.shortTtlMs)
    t.same(taken, { sessionId: 'sales', instanceId: 'instance-b', epoch: 3 })

    await harness.advance(harness.shortTtlMs + 20)
    t.equal(await two.leases.holder('sales'), undefined, 'an unrenewed lease runs out')
    t.equal(await two.leases.renew(taken!, longTtlMs), false, 'and cannot be renewed after')
    t.same(await one.leases.acquire('sales', 'instance-a', longTtlMs), { sessionId: 'sales', instanceId: 'instance-a', epoch: 4 }, 'an orphan is taken over')
  })

  t.test('leases: twenty instances racing for one session, one wins', async (t) => {
    const harness = await createHarness(t)
    const stores = [await harness.open(), await harness.open()]
    const results = await Promise.all(Array.from({ length: 20 }, async (_, index) => await stores[index % 2]!.leases.acquire('sales', `instance-${index}`, longTtlMs)))
    const winners = results.filter((lease) => lease !== undefined)
    t.equal(winners.length, 1)
    t.match(await stores[0]!.leases.holder('sales'), { instanceId: winners[0]!.instanceId, epoch: 1 })
  })

  t.test('credentials and signal keys: fenced writes', async (t) => {
    const harness = await createHarness(t)
    const [one, two] = [await harness.open(), await harness.open()]
    t.equal(await one.authState.readCredentials('sales'), undefined)
    const lease = (await one.leases.acquire('sales', 'instance-a', longTtlMs))!
    await one.authState.write('sales', lease, {
      credentials: '{"me":1}',
      keys: { 'pre-key': { 1: 'key-1', 2: 'key-2' }, session: { '628111.0:1': 'session-1' } }
    })
    t.equal(await two.authState.readCredentials('sales'), '{"me":1}')
    t.same(await two.authState.readKeys('sales', 'pre-key', ['1', '2', '3']), { 1: 'key-1', 2: 'key-2' })
    t.same(await two.authState.readKeys('sales', 'session', ['628111.0:1']), { '628111.0:1': 'session-1' })
    t.same(await two.authState.readKeys('sales', 'pre-key', []), {})

    await one.authState.write('sales', lease, { keys: { 'pre-key': { 1: null } } })
    t.same(await two.authState.readKeys('sales', 'pre-key', ['1', '2']), { 2: 'key-2' }, 'null deletes a key')

    // Another instance takes the session over; the first one still has its old lease object.
    await one.leases.release(lease)
    const newer = (await two.leases.acquire('sales', 'instance-b', longTtlMs))!
    t.equal(newer.epoch, 2)
    const refused = one.authState.write('sales', lease, { credentials: '{"me":"stale"}', keys: { 'pre-key': { 9: 'stale' } } })
    await t.rejects(refused, StaleLeaseError)
    await t.rejects(one.authState.write('sales', { ...lease, instanceId: 'instance-b' }, { credentials: 'x' }), StaleLeaseError, 'the epoch counts, not just the name')
    await t.rejects(one.authState.delete('sales', lease), StaleLeaseError)
    await t.rejects(one.authState.write('support', lease, { credentials: 'x' }), StaleLeaseError, 'a lease is for its own session only')
    t.equal(await two.authState.readCredentials('sales'), '{"me":1}', 'nothing of a refused write landed')
    t.same(await two.authState.readKeys('sales', 'pre-key', ['9']), {})

    await two.authState.write('sales', newer, { credentials: '{"me":2}' })
    t.equal(await one.authState.readCredentials('sales'), '{"me":2}')

    const shortLease = (await one.leases.acquire('support', 'instance-a', harness.shortTtlMs))!
    await harness.advance(harness.shortTtlMs + 20)
    await t.rejects(one.authState.write('support', shortLease, { credentials: 'x' }), StaleLeaseError, 'an expired lease writes nothing')
    t.equal(await one.authState.readCredentials('support'), undefined)

    await two.authState.delete('sales', newer)
    t.equal(await one.authState.readCredentials('sales'), undefined)
    t.same(await one.authState.readKeys('sales', 'session', ['628111.0:1']), {}, 'keys deleted with the credentials')
  })

  t.test('instances: heartbeats list live instances and run out', async (t) => {
    const harness = await createHarness(t)
    const [one, two] = [await harness.open(), await harness.open()]
    await one.instances.heartbeat({ instanceId: 'instance-a', url: 'http://10.0.0.1:3000' }, longTtlMs)
    await two.instances.heartbeat({ instanceId: 'instance-b', url: 'http://10.0.0.2:3000' }, harness.shortTtlMs)
    await two.instances.heartbeat({ instanceId: 'instance-c', url: 'http://10.0.0.3:3000' }, longTtlMs)
    const byId = (list: Array<{ instanceId: string }>) =>
      [...list].sort((first, second) => first.instanceId.localeCompare(second.instanceId))
    t.same(byId(await one.instances.live()).map((instance) => instance.instanceId), ['instance-a', 'instance-b', 'instance-c'])
    await two.instances.remove('instance-c')
    await harness.advance(harness.shortTtlMs + 20)
    t.same(await two.instances.live(), [{ instanceId: 'instance-a', url: 'http://10.0.0.1:3000' }])
  })

  t.test('session auth state: WhatsApp credentials and keys round-trip, fenced by the lease', async (t) => {
    const harness = await createHarness(t)
    const [one, two] = [await harness.open(), await harness.open()]
    const lease = (await one.leases.acquire('sales', 'instance-a', longTtlMs))!
    const state = await openSessionAuthState(one, lease, whatsappCodec)
    t.ok(Buffer.isBuffer(state.credentials.noiseKey.private), 'fresh credentials when the store has none')
    state.credentials.registered = true
    await state.saveCredentials()
    const preKey = { public: Buffer.from([1, 2, 3]), private: Buffer.from([4, 5, 6]) }
    const syncKey = { keyData: Buffer.from([7, 8]), fingerprint: { rawId: 1, currentIndex: 2, deviceIndexes: [0] }, timestamp: 5 }
    await state.keys.set({ 'pre-key': { 7: preKey, 8: preKey }, 'app-state-sync-key': { abc: syncKey } })
    await state.keys.set({ 'pre-key': { 8: null } })
    t.equal(state.writeCount(), 3)

    // Read back elsewhere, as another instance taking the session over would.
    await one.leases.release(lease)
    const newer = (await two.leases.acquire('sales', 'instance-b', longTtlMs))!
    const reopened = await openSessionAuthState(two, newer, whatsappCodec)
    t.equal(whatsappCodec.serialize(reopened.credentials), whatsappCodec.serialize(state.credentials), 'credentials identical (fields left undefined are not kept, as with the files)')
    t.ok(Buffer.isBuffer(reopened.credentials.noiseKey.private))
    const keys = await reopened.keys.get('pre-key', ['7', '8'])
    t.same(Object.keys(keys), ['7'])
    t.ok(Buffer.isBuffer((keys['7'] as typeof preKey).private))
    const revived = (await reopened.keys.get('app-state-sync-key', ['abc'])).abc
    t.ok(revived instanceof proto.Message.AppStateSyncKeyData, 'app-state sync keys revived as WhatsApp expects')

    await t.rejects(state.saveCredentials(), StaleLeaseError, 'the old holder cannot write')
    await t.rejects(state.keys.set({ 'pre-key': { 9: preKey } }), StaleLeaseError)
    t.same(await reopened.keys.get('pre-key', ['9']), {})
    await reopened.close()
    await reopened.saveCredentials()
    t.equal(reopened.writeCount(), 0, 'writes after close are dropped')
  })

  t.test('import: session folders are copied into the store once', async (t) => {
    const harness = await createHarness(t)
    const [store, other] = [await harness.open(), await harness.open()]
    const authStateDirectory = await temporaryDirectory(t, 'import-auth-state-')
    // Folders as a single instance writes them today.
    const files = await openSessionAuthFiles(join(authStateDirectory, 'sales'), whatsappCodec)
    files.credentials.me = { id: '628111:1@s.whatsapp.net', name: 'Sales' }
    await files.saveCredentials()
    await files.keys.set({ session: { '628222.0:1': { record: Buffer.from([9, 9]) } }, 'pre-key': { 1: { public: Buffer.from([1]), private: Buffer.from([2]) } } })
    await files.close()
    const busyFiles = await openSessionAuthFiles(join(authStateDirectory, 'busy'), whatsappCodec)
    await busyFiles.saveCredentials()
    await busyFiles.close()
    await mkdir(join(authStateDirectory, 'waiting-for-scan'))
    await mkdir(join(authStateDirectory, 'broken'))
    await writeFile(join(authStateDirectory, 'broken', 'creds.json'), '{not json')
    const busyLease = (await other.leases.acquire('busy', 'instance-b', longTtlMs))!

    const options = { authStateDirectory, store, instanceId: 'instance-a', leaseMs: longTtlMs }
    const bySession = (results: Array<{ sessionId: string, outcome: string }>) =>
      Object.fromEntries(results.map((result) => [result.sessionId, result.outcome]))
    t.same(bySession(await importAuthStateFolders(options)), { sales: 'imported', busy: 'busy', broken: 'unreadable' })
    t.equal(await other.leases.holder('sales'), undefined, 'the lease taken for the import is released')

    const lease = (await other.leases.acquire('sales', 'instance-b', longTtlMs))!
    const imported = await openSessionAuthState(other, lease, whatsappCodec)
    const original = await openSessionAuthFiles(join(authStateDirectory, 'sales'), whatsappCodec)
    t.same(imported.credentials, original.credentials, 'credentials as they were in the folder')
    t.same(await imported.keys.get('session', ['628222.0:1']), await original.keys.get('session', ['628222.0:1']))
    t.same(Object.keys(await imported.keys.get('session', ['628222.0:1'])), ['628222.0:1'], 'a key kept in a file of its own is imported too')
    t.same(await imported.keys.get('pre-key', ['1']), await original.keys.get('pre-key', ['1']))
    t.match(await other.sessions.get('sales'), { sessionId: 'sales', user: { id: '628111:1@s.whatsapp.net', name: 'Sales' }, importedAt: String })
    t.match(JSON.parse(await readFile(join(authStateDirectory, 'sales', importedMarkerFileName), 'utf8')), { instanceId: 'instance-a' })

    // The new holder moves on; a second run must not bring the folder's older credentials back.
    imported.credentials.registered = true
    await imported.saveCredentials()
    await other.leases.release(lease)
    await other.leases.release(busyLease)
    t.same(bySession(await importAuthStateFolders(options)), { sales: 'marked-before', busy: 'imported', broken: 'unreadable' })
    t.equal(JSON.parse((await store.authState.readCredentials('sales'))!).registered, true)

    // Lost marker (a crash between the store write and the marker): the store's copy wins.
    await rm(join(authStateDirectory, 'sales', importedMarkerFileName))
    t.same(bySession(await importAuthStateFolders(options)), { sales: 'already-in-store', busy: 'marked-before', broken: 'unreadable' })
    t.equal(JSON.parse((await store.authState.readCredentials('sales'))!).registered, true)
  })
}
