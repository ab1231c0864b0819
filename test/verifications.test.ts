import { join } from 'node:path'
import t from 'tap'
import { createVerifications, waLink } from '../plugins/verifications.js'
import { openEmbeddedStateStore } from '../src/state/embedded-state-store.js'
import { temporaryDirectory, type TestContext } from './helper.js'

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
    otp: { sendCode: async () => { throw new Error('not used') }, verify: async () => { throw new Error('not used') } },
    sessions: { get: () => ({ user: { id: '6281200000001:3@s.whatsapp.net', name: null } }) as never },
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
