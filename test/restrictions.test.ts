import { join } from 'node:path'
import { isTcTokenExpired } from '@whiskeysockets/baileys/lib/Utils/tc-token-utils.js'
import { pino } from 'pino'
import t from 'tap'
import { chatExpiresAt, createRestrictions, type Restrictions } from '../plugins/restrictions.js'
import { openEmbeddedStateStore } from '../src/state/embedded-state-store.js'
import { temporaryDirectory, type TestContext } from './helper.js'

// The chat bookkeeping without WhatsApp, on the real embedded store (end to end, across a
// restart: test/sender-pool.test.ts). Listeners do not wait for their writes; close() does, so each
// step below ends with a close and the next reads through a new instance, as after a restart.
async function setUp (t: TestContext) {
  const directory = await temporaryDirectory(t)
  const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth') })
  t.teardown(() => store.close())
  const open = (): Restrictions => {
    const restrictions = createRestrictions({ logger: pino({ level: 'silent' }), chats: store.chats })
    t.teardown(() => restrictions.close())
    return restrictions
  }
  return { open }
}

t.test('a chat is remembered as long as Baileys keeps the privacy token of its last message', async (t) => {
  const weekMs = 7 * 24 * 60 * 60 * 1000
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  // Baileys' own rule (isTcTokenExpired reads Date.now), asked at the chat's end and just before.
  const expiredAt = (issuedAt: number, now: number): boolean => {
    Date.now = () => now
    try {
      return isTcTokenExpired(Math.floor(issuedAt / 1000))
    } finally {
      Date.now = realNow
    }
  }
  const bucketStart = Math.floor(realNow() / weekMs) * weekMs
  for (const at of [realNow(), bucketStart, bucketStart - 1000, bucketStart + weekMs - 1000]) {
    const end = chatExpiresAt(at)
    t.ok(end - at > 3 * weekMs && end - at <= 4 * weekMs, 'between 3 and 4 weeks')
    t.equal(expiredAt(at, end - 1000), false, 'Baileys still holds the token a second before the end')
    t.equal(expiredAt(at, end), true, 'and drops it at the end')
  }
})

t.test('received and sent messages record chats; a removed session forgets its own', async (t) => {
  const { open } = await setUp(t)
  const first = open()
  first.recordReceived({ sessionId: 'one', messageId: 'M1', from: 'x', phone: '6281001', pushName: null, text: 'halo', timestamp: 0 })
  first.recordReceived({ sessionId: 'two', messageId: 'M2', from: 'x', phone: null, pushName: null, text: 'halo', timestamp: 0 })
  first.recordSent({ sessionId: 'two', messageId: 'M3', to: '6281001', jid: 'j', type: 'otp', at: new Date() })
  await first.close()
  const second = open()
  t.same(Object.fromEntries(await second.sessionsChattingWith('6281001', ['one', 'two', 'three'])), { one: 'contact', two: 'account' }, 'the number wrote to one; two wrote to it')
  t.same([...await second.sessionsChattingWith('6281009', ['one', 'two'])], [], 'an unresolved sender records nothing')
  second.forgetSession('two')
  await second.close()
  t.same([...await open().sessionsChattingWith('6281001', ['one', 'two'])], [['one', 'contact']])
})

t.test('a send WhatsApp took to a new number lifts a refusal', async (t) => {
  const restrictions = (await setUp(t)).open()
  restrictions.recordFailed({ sessionId: 'one', to: '6281002', type: 'otp', errorCode: 'SENDER_RESTRICTED', message: 'x', at: new Date() })
  t.match(restrictions.describe('one'), { newChats: 'blocked', reason: 'REFUSED_463' })
  const lifted = new Promise((resolve) => restrictions.events.once('lifted', resolve))
  restrictions.recordSent({ sessionId: 'one', messageId: 'M3', to: '6281003', jid: 'j', type: 'otp', at: new Date() })
  t.same(await lifted, { sessionId: 'one' })
  t.equal(restrictions.describe('one'), null)
})

// A session that moved to another instance (REDIS_URL) kept its restriction and its timer here.
t.test('a session that left this instance forgets its restriction here and keeps its chats', async (t) => {
  const { open } = await setUp(t)
  const restrictions = open()
  restrictions.recordReceived({ sessionId: 'moved', messageId: 'M1', from: 'x', phone: '6281004', pushName: null, text: 'halo', timestamp: 0 })
  restrictions.recordRestriction({ sessionId: 'moved', source: 'timelock', active: true, until: new Date(Date.now() + 60_000), reason: 'x' })
  t.equal(restrictions.restrictedCount(), 1)
  restrictions.sessionLeft('moved')
  t.equal(restrictions.describe('moved'), null)
  t.equal(restrictions.restrictedCount(), 0)
  await restrictions.close()
  t.same(Object.fromEntries(await open().sessionsChattingWith('6281004', ['moved'])), { moved: 'contact' }, 'the new holder still finds the chat')
})
