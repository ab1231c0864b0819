import { join } from 'node:path'
import t from 'tap'
import { createOtp, type Otp } from '../plugins/otp.js'
import { createVerifications, waLink, type Verifications } from '../plugins/verifications.js'
import { createOtpService } from '../src/otp-service.js'
import { createStateOtpStore } from '../src/otp-state-store.js'
import { openEmbeddedStateStore } from '../src/state/embedded-state-store.js'
import { openRedisStateStore } from '../src/state/redis-state-store.js'
import type { OtpRecord } from '../src/otp-store.js'
import type { RecordCollection, RecordKind, StateStore } from '../src/state/state-store.js'
import { temporaryDirectory, type TestContext } from './helper.js'
import { startRedisServer, type RedisServer } from './state/redis-server.js'

// The verification rules without WhatsApp: a fake clock, the real embedded state store. The
// end-to-end flows (LID senders, webhooks) are in test/sender-pool.test.ts on the simulator.
async function setUp (t: TestContext) {
  const directory = await temporaryDirectory(t)
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth') })
  t.teardown(() => store.close())
  // The store expires records by the real clock: the fake one starts now.
  let now = Date.now()
  const replies: string[] = []
  const verifications = createVerifications({
    records: store.records('verification'),
    otp: { sendCode: async () => { throw new Error('not used') }, verify: async () => { throw new Error('not used') }, voidCode: async () => { throw new Error('not used') } },
    instanceRouter: { session: async () => ({ user: { id: '6281200000001:3@s.whatsapp.net', name: null } }) as never },
    messageSender: { sendText: async (_sessionId, to, text) => { replies.push(`${to}:${text}`); return { messageId: 'x', to, jid: '' } } },
    secret: 'a-secret-of-sixteen-or-more',
    codeLength: 6,
    ttlSeconds: 300,
    inboundReply: 'ok',
    logger: { info () {}, warn () {}, error: (...args: unknown[]) => console.error(...args) } as never,
    clock: () => now
  })
  const approved = (): Promise<unknown> => new Promise((resolve) => verifications.events.once('approved', resolve))
  const write = (phone: string | null, text: string): void => {
    verifications.handleInbound({ sessionId: 'main', messageId: String(Math.random()), from: 'x', phone, pushName: null, text, timestamp: 0 })
  }
  return { verifications, write, approved, replies, advance: (ms: number) => { now += ms } }
}

t.test('an inbound verification expires with its code', async (t) => {
  const { verifications, write, advance } = await setUp(t)
  const started = await verifications.startInbound('main', '6281300000001')
  t.equal(started.waLink, waLink('6281200000001', started.text))
  advance(301_000)
  t.equal((await verifications.get(started.verificationId)).status, 'expired')
  write('6281300000001', started.text)
  // Nothing can approve it any more; read after the listener had its turn with the store.
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal((await verifications.get(started.verificationId)).status, 'expired')
})

t.test('without `to`, whoever sends the code is approved and named', async (t) => {
  const { verifications, write, approved, replies } = await setUp(t)
  const started = await verifications.startInbound('main', undefined)
  const done = approved()
  write('6281300000009', `halo ${started.text}`)
  t.match(await done, { verification: { status: 'approved', phone: '6281300000009', to: null } })
  t.same(replies, ['6281300000009:ok'])
})

t.test('canceled and unknown verifications', async (t) => {
  const { verifications, write } = await setUp(t)
  const started = await verifications.startInbound('main', '6281300000002')
  t.equal((await verifications.cancel(started.verificationId)).status, 'canceled')
  write('6281300000002', started.text)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal((await verifications.get(started.verificationId)).status, 'canceled')
  await t.rejects(verifications.get('not-an-id'), { code: 'VERIFICATION_NOT_FOUND', statusCode: 404 })
})

// Outbound codes below WhatsApp, on either state store: the real OTP service and verifications, a
// message sender that sends nothing, the code taken from the send's answer (OTP_EXPOSE_CODE).
// `calls` lists every state store call as `kind.method`; `beforeUpdate` can hold an update (the
// index write of a send) at a point the test chooses; `otp` is what the verifications call, so a
// test can wrap one of its methods.
type Backend = 'embedded' | 'redis'
let redisServer: Promise<RedisServer> | undefined
let nextKeyPrefix = 0

async function openStore (test: TestContext, backend: Backend): Promise<StateStore> {
  if (backend === 'embedded') {
    const directory = await temporaryDirectory(test)
    const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth') })
    test.teardown(() => store.close())
    return store
  }
  // One redis-server for the file (stopped when the file ends), started by the first test that
  // needs it; each test its own keys.
  redisServer ??= startRedisServer(t)
  const store = await openRedisStateStore({ url: (await redisServer).url, keyPrefix: `verifications-${nextKeyPrefix++}:` })
  test.teardown(() => store.close())
  return store
}

async function setUpOutbound (t: TestContext, backend: Backend) {
  const store = await openStore(t, backend)
  const calls: string[] = []
  const hooks = { beforeUpdate: async (_kind: RecordKind, _key: string): Promise<void> => {} }
  const recorded = {
    records: <Value>(kind: RecordKind): RecordCollection<Value> => {
      const records = store.records<Value>(kind)
      return {
        get: async (key) => { calls.push(`${kind}.get`); return await records.get(key) },
        update: async (key, change) => {
          calls.push(`${kind}.update`)
          await hooks.beforeUpdate(kind, key)
          return await records.update(key, change)
        },
        delete: async (key) => { calls.push(`${kind}.delete`); await records.delete(key) }
      }
    }
  }
  let messages = 0
  // Each message's text, as it reached the phone.
  const delivered: string[] = []
  const realOtp = createOtp({
    service: createOtpService({ store: createStateOtpStore(recorded), secret: 'a-secret-of-sixteen-or-more', length: 6, ttlSeconds: 300, maxAttempts: 5, cooldownSeconds: 0, maxPerHour: 100 }),
    messageSender: {
      assertCanSend () {},
      sendText: async (_sessionId, to, text) => {
        delivered.push(text)
        return { messageId: `message-${++messages}`, to, jid: '' }
      }
    },
    ttlSeconds: 300,
    exposeCode: true
  })
  const otp: Pick<Otp, 'sendCode' | 'verify' | 'voidCode'> = { sendCode: realOtp.sendCode, verify: realOtp.verify, voidCode: realOtp.voidCode }
  const verifications = createVerifications({
    records: recorded.records('verification'),
    otp,
    instanceRouter: { session: async () => ({ user: { id: '6281200000001:3@s.whatsapp.net', name: null } }) as never },
    messageSender: { sendText: async () => { throw new Error('not used') } },
    secret: 'a-secret-of-sixteen-or-more',
    codeLength: 6,
    ttlSeconds: 300,
    logger: { info () {}, warn () {}, error: (...args: unknown[]) => console.error(...args) } as never
  })
  const approved: string[] = []
  verifications.events.on('approved', ({ verification }) => approved.push(verification?.verificationId ?? 'none'))
  // The code of a send, as the phone's owner would read it.
  const send = async (phone: string) => {
    const sent = await verifications.sendOtp('main', phone)
    if (sent.code === undefined) throw new Error('the code is exposed in this setup')
    return { ...sent, code: sent.code }
  }
  return { store, verifications, otp, calls, hooks, approved, send, delivered }
}

// The next send to `phone` stops before it writes the number's latest verification (its code is
// committed by then) until `release` is called.
interface StoreHooks { beforeUpdate: (kind: RecordKind, key: string) => Promise<void> }
function pauseAtIndexWrite (hooks: StoreHooks, phone: string): { atIndexWrite: Promise<void>, release: () => void } {
  let reached!: () => void
  let release!: () => void
  const atIndexWrite = new Promise<void>((resolve) => { reached = resolve })
  const released = new Promise<void>((resolve) => { release = resolve })
  hooks.beforeUpdate = async (kind, key) => {
    if (kind !== 'verification' || key !== `latest-${phone}`) return
    hooks.beforeUpdate = async () => {}
    reached()
    await released
  }
  return { atIndexWrite, release }
}

// The number's OTP record as the previous version wrote it: the code without its verification id.
async function asAnEarlierVersionWroteIt (store: StateStore, phone: string): Promise<void> {
  await store.records<OtpRecord>('otp').update(phone, (record) => {
    if (record?.code === undefined) throw new Error('no code stored')
    const { verificationId: _dropped, ...code } = record.code
    return { value: { ...record, code }, result: null, expiresAt: record.deleteAfter }
  })
}

// A code that differs from `code` in every digit, so it can never be the right one by accident.
function wrongCode (code: string): string {
  return [...code].map((digit) => String((Number(digit) + 1) % 10)).join('')
}

const codeNotFound = { code: 'OTP_NOT_FOUND', statusCode: 404, message: 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru' }

async function statusOf (verifications: Verifications, verificationId: string): Promise<string> {
  return (await verifications.get(verificationId)).status
}

for (const backend of ['embedded', 'redis'] as const) {
  t.test(`${backend}: cancel voids the code; its right code and a wrong one are 404 OTP_NOT_FOUND in one store call`, async (t) => {
    const { verifications, calls, approved, send } = await setUpOutbound(t, backend)
    const sent = await send('6281300000101')
    t.equal((await verifications.cancel(sent.verificationId)).status, 'canceled')
    calls.length = 0
    await t.rejects(verifications.verifyCode('6281300000101', sent.code), codeNotFound, 'the right code')
    await t.rejects(verifications.verifyCode('6281300000101', wrongCode(sent.code)), codeNotFound, 'a wrong code: 404, not 400')
    await t.rejects(verifications.verifyCode('6281300000199', sent.code), codeNotFound, 'a number that never got a code')
    t.same(calls, ['otp.update', 'otp.update', 'otp.update'], 'the OTP record only: no index or verification read')
    t.equal(await statusOf(verifications, sent.verificationId), 'canceled')
    t.same(approved, [])
  })

  t.test(`${backend}: wrong codes count down in one store call each; the last one finishes the verification`, async (t) => {
    const { verifications, calls, send } = await setUpOutbound(t, backend)
    const sent = await send('6281300000102')
    calls.length = 0
    for (const attemptsLeft of [4, 3, 2, 1]) {
      await t.rejects(verifications.verifyCode('6281300000102', wrongCode(sent.code)), {
        code: 'OTP_INVALID', statusCode: 400, attemptsLeft, message: `Kode OTP salah, sisa percobaan: ${attemptsLeft}`
      })
    }
    t.same(calls, ['otp.update', 'otp.update', 'otp.update', 'otp.update'])
    calls.length = 0
    await t.rejects(verifications.verifyCode('6281300000102', wrongCode(sent.code)), { code: 'OTP_TOO_MANY_ATTEMPTS', statusCode: 429 })
    t.same(calls, ['otp.update', 'verification.get', 'verification.update'], 'the index is read after the code, to finish its verification')
    t.equal(await statusOf(verifications, sent.verificationId), 'max_attempts')

    // A cancel after the code was used up changes nothing: the verification ended already.
    t.equal((await verifications.cancel(sent.verificationId)).status, 'max_attempts')
    await t.rejects(verifications.verifyCode('6281300000102', sent.code), { code: 'OTP_TOO_MANY_ATTEMPTS' }, 'still 429, not 404')
  })

  t.test(`${backend}: the right code approves the verification it was sent for, in two store calls`, async (t) => {
    const { verifications, calls, approved, send } = await setUpOutbound(t, backend)
    const sent = await send('6281300000103')
    calls.length = 0
    t.same(await verifications.verifyCode('6281300000103', sent.code), { to: '6281300000103', verificationId: sent.verificationId })
    t.same(calls, ['otp.update', 'verification.update'], 'the code names its verification: no index read')
    t.same(approved, [sent.verificationId])
    t.equal(await statusOf(verifications, sent.verificationId), 'approved')
    await t.rejects(verifications.verifyCode('6281300000103', sent.code), codeNotFound, 'spent')
  })

  t.test(`${backend}: canceling an older verification leaves the newer code verifying`, async (t) => {
    const { verifications, approved, send } = await setUpOutbound(t, backend)
    const older = await send('6281300000104')
    const newer = await send('6281300000104')
    t.equal(await statusOf(verifications, older.verificationId), 'canceled', 'the newer send canceled it already')
    t.equal((await verifications.cancel(older.verificationId)).status, 'canceled')
    t.same(await verifications.verifyCode('6281300000104', newer.code), { to: '6281300000104', verificationId: newer.verificationId })
    t.same(approved, [newer.verificationId])
  })

  t.test(`${backend}: a cancel while a newer send is between its commit and its index write leaves the newer code`, async (t) => {
    const { verifications, hooks, approved, send } = await setUpOutbound(t, backend)
    const older = await send('6281300000105')
    const { atIndexWrite, release } = pauseAtIndexWrite(hooks, '6281300000105')
    const sending = send('6281300000105')
    await atIndexWrite
    // The newer code is committed; the number's latest verification is still the older one.
    t.equal((await verifications.cancel(older.verificationId)).status, 'canceled', 'the older one was still pending')
    release()
    const newer = await sending
    t.same(await verifications.verifyCode('6281300000105', newer.code), { to: '6281300000105', verificationId: newer.verificationId }, 'the newer code verifies')
    t.same(approved, [newer.verificationId])
  })

  // Regression: the code went by the number's index, which the send writes after the code was
  // committed and delivered; a code typed in between approved the verification before it.
  t.test(`${backend}: a code typed while its send is between the commit and the index write approves its own verification`, async (t) => {
    const { verifications, hooks, approved, send, delivered } = await setUpOutbound(t, backend)
    const older = await send('6281300000108')
    const { atIndexWrite, release } = pauseAtIndexWrite(hooks, '6281300000108')
    const sending = send('6281300000108')
    await atIndexWrite
    // The message is on the phone: its owner types the code before the send's answer came back.
    const typed = /\d{6}/.exec(delivered.at(-1) ?? '')?.[0] ?? ''
    const verified = await verifications.verifyCode('6281300000108', typed)
    release()
    const newer = await sending
    t.equal(typed, newer.code, 'the code the message carried')
    t.same(verified, { to: '6281300000108', verificationId: newer.verificationId })
    t.same(approved, [newer.verificationId], 'its own verification, not the one before')
    t.equal(await statusOf(verifications, newer.verificationId), 'approved')
    t.equal(await statusOf(verifications, older.verificationId), 'canceled', 'the newer send canceled the older one')
  })

  t.test(`${backend}: a right code verified between a cancel's status change and its void is refused`, async (t) => {
    const { verifications, otp, approved, send } = await setUpOutbound(t, backend)
    const sent = await send('6281300000106')
    const voidCode = otp.voidCode
    let between: unknown
    otp.voidCode = async (phone, verificationId) => {
      between = await verifications.verifyCode(phone, sent.code).catch((error: unknown) => error)
      return await voidCode(phone, verificationId)
    }
    t.equal((await verifications.cancel(sent.verificationId)).status, 'canceled')
    t.match(between, codeNotFound)
    t.same(approved, [], 'nothing approved')
    t.equal(await statusOf(verifications, sent.verificationId), 'canceled')
    await t.rejects(verifications.verifyCode('6281300000106', sent.code), codeNotFound)
  })

  t.test(`${backend}: a code from before codes kept their verification id approves the number's latest verification`, async (t) => {
    const { store, verifications, calls, approved, send } = await setUpOutbound(t, backend)
    const sent = await send('6281300000109')
    await asAnEarlierVersionWroteIt(store, '6281300000109')
    calls.length = 0
    t.same(await verifications.verifyCode('6281300000109', sent.code), { to: '6281300000109', verificationId: sent.verificationId })
    t.same(calls, ['otp.update', 'verification.get', 'verification.update'], 'found through the index')
    t.same(approved, [sent.verificationId])
  })

  t.test(`${backend}: a code canceled before codes kept their verification id never verifies`, async (t) => {
    const { store, verifications, approved, send } = await setUpOutbound(t, backend)
    const sent = await send('6281300000107')
    await asAnEarlierVersionWroteIt(store, '6281300000107')
    t.equal((await verifications.cancel(sent.verificationId)).status, 'canceled')
    // The accepted cost of not reading the verification on a wrong code (see verifyCode).
    await t.rejects(verifications.verifyCode('6281300000107', wrongCode(sent.code)), { code: 'OTP_INVALID', attemptsLeft: 4 })
    await t.rejects(verifications.verifyCode('6281300000107', sent.code), codeNotFound, 'the right code is refused')
    await t.rejects(verifications.verifyCode('6281300000107', sent.code), codeNotFound, 'and spent')
    t.same(approved, [])
    t.equal(await statusOf(verifications, sent.verificationId), 'canceled')
  })
}
