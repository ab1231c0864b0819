// The sender's own rules, with a scripted connection instead of WhatsApp: how long lookup answers
// are trusted, what a failed lookup or send becomes, and what a removed session leaves behind.
// Sending through the real library and the simulator is in messages.test.ts.
import pino from 'pino'
import t from 'tap'
import { createMessageSender } from '../plugins/message-sender.js'
import type { WhatsAppConnection } from '../src/whatsapp-connection.js'
import { errors } from '../src/errors.js'
import type { MessageSenderEventMap } from '../src/events.js'

const registered = '628123456789'
const unregistered = '628111111111'

function scriptedWhatsApp () {
  const lookups: string[][] = []
  const sent: Array<{ jid: string, text: string }> = []
  let lookupFailure: Error | null = null
  let sendFailure: Error | null = null
  let releaseSend: (() => void) | null = null
  const connection = {
    async lookup (phoneNumbers: string[]) {
      lookups.push(phoneNumbers)
      if (lookupFailure !== null) throw lookupFailure
      return new Map(phoneNumbers.filter((phone) => phone !== unregistered).map((phone) => [phone, `${phone}@s.whatsapp.net`]))
    },
    async sendText (jid: string, text: string) {
      if (sendFailure !== null) throw sendFailure
      // A send can be held open, to keep the queue busy while the test looks at it.
      if (releaseSend === null) await Promise.resolve()
      else await new Promise<void>((resolve) => { releaseSend = resolve })
      sent.push({ jid, text })
      return { messageId: `id-${sent.length}` }
    }
  } as unknown as WhatsAppConnection
  const sessions = {
    connection (sessionId: string) {
      if (sessionId !== 'main') throw new errors.SESSION_NOT_FOUND(sessionId)
      return connection
    }
  }
  return {
    sessions,
    lookups,
    sent,
    failLookups: (error: Error | null) => { lookupFailure = error },
    failSends: (error: Error | null) => { sendFailure = error },
    holdSends: () => { releaseSend = () => {} },
    release: () => { const release = releaseSend; releaseSend = null; release?.() }
  }
}

function setup (t: { teardown: (fn: () => unknown) => void }, maxCachedNumbers?: number) {
  const whatsapp = scriptedWhatsApp()
  let now = 1_000_000
  const sender = createMessageSender({
    sessions: whatsapp.sessions,
    logger: pino({ level: 'silent' }),
    minGapMs: 0,
    maxQueued: 1,
    maxWaitMs: 60_000,
    holderRetryAfterSeconds: 15,
    registeredCacheMs: 60_000,
    unregisteredCacheMs: 10_000,
    ...(maxCachedNumbers === undefined ? {} : { maxCachedNumbers }),
    clock: () => now
  })
  t.teardown(() => sender.close())
  return { whatsapp, sender, advance: (milliseconds: number) => { now += milliseconds } }
}

t.test('lookup answers are cached: "yes" longer than "no"', async (t) => {
  const { whatsapp, sender, advance } = setup(t)
  await sender.sendText('main', registered, 'one')
  await sender.sendText('main', '08123456789', 'two')
  await t.rejects(sender.sendText('main', unregistered, 'x'), { code: 'PHONE_NOT_ON_WHATSAPP', statusCode: 422 })
  await t.rejects(sender.sendText('main', unregistered, 'x'), { code: 'PHONE_NOT_ON_WHATSAPP' })
  t.same(whatsapp.lookups, [[registered], [unregistered]])

  advance(10_000)
  await t.rejects(sender.sendText('main', unregistered, 'x'), { code: 'PHONE_NOT_ON_WHATSAPP' })
  await sender.sendText('main', registered, 'three')
  t.same(whatsapp.lookups, [[registered], [unregistered], [unregistered]], 'only the "no" expired')

  advance(50_000)
  await sender.sendText('main', registered, 'four')
  t.equal(whatsapp.lookups.length, 4, 'the "yes" expired too')
  t.same(whatsapp.sent.map((message) => message.text), ['one', 'two', 'three', 'four'])
})

t.test('sends to a new number at once ask WhatsApp once', async (t) => {
  const { whatsapp, sender } = setup(t)
  await Promise.all([sender.sendText('main', registered, 'a'), sender.sendText('main', registered, 'b')])
  t.same(whatsapp.lookups, [[registered]])
})

t.test('a lookup takes a turn in the session\'s queue like a send; a cached "no" does not', async (t) => {
  const { whatsapp, sender } = setup(t)
  await t.rejects(sender.sendText('main', unregistered, 'x'), { code: 'PHONE_NOT_ON_WHATSAPP' })
  whatsapp.holdSends()
  const sending = sender.sendText('main', registered, 'holds the queue')
  // The one waiting place is taken by a lookup of a new number, which waits for its turn ...
  const lookingUp = sender.sendText('main', '628100000001', 'x')
  // ... so a second new number is refused instead of asked at once: WhatsApp sees one question per turn.
  await t.rejects(sender.sendText('main', '628100000002', 'x'), { code: 'SEND_QUEUE_FULL', statusCode: 429 })
  t.same(whatsapp.lookups, [[unregistered], [registered]], 'nothing asked while the queue is busy')
  await t.rejects(sender.sendText('main', unregistered, 'x'), { code: 'PHONE_NOT_ON_WHATSAPP' }, 'a known "no" is answered without a turn')
  whatsapp.release()
  await sending
  t.match(await lookingUp, { to: '628100000001' })
  t.same(whatsapp.lookups, [[unregistered], [registered], ['628100000001']])
})

t.test('an unknown session is refused before anything is queued or asked; after close nothing is sent', async (t) => {
  const { whatsapp, sender } = setup(t)
  t.throws(() => sender.assertCanSend('other'), { code: 'SESSION_NOT_FOUND' })
  t.doesNotThrow(() => sender.assertCanSend('main'))
  await sender.close()
  t.throws(() => sender.assertCanSend('main'), { code: 'SEND_QUEUE_CLOSED', statusCode: 503 })
  await t.rejects(sender.sendText('main', registered, 'late'), { code: 'SEND_QUEUE_CLOSED', statusCode: 503 })
  t.same(whatsapp.lookups, [])
})

t.test('a failed lookup is MESSAGE_SEND_FAILED and is not cached', async (t) => {
  const { whatsapp, sender } = setup(t)
  const failed: Array<MessageSenderEventMap['failed'][0]> = []
  sender.events.on('failed', (event) => failed.push(event))
  whatsapp.failLookups(new Error('usync timed out'))
  await t.rejects(sender.sendText('main', registered, 'x'), { code: 'MESSAGE_SEND_FAILED', statusCode: 502, message: 'Gagal mengirim pesan: usync timed out' })
  whatsapp.failLookups(null)
  await sender.sendText('main', registered, 'y')
  t.equal(whatsapp.lookups.length, 2)
  t.match(failed, [{ sessionId: 'main', to: registered, type: 'text', errorCode: 'MESSAGE_SEND_FAILED', message: 'Gagal mengirim pesan: usync timed out', at: Date }])
})

t.test('WhatsApp refusing a send is MESSAGE_SEND_FAILED; the next send still goes', async (t) => {
  const { whatsapp, sender } = setup(t)
  whatsapp.failSends(new Error('not acknowledged'))
  await t.rejects(sender.sendText('main', registered, 'x', 'otp'), { code: 'MESSAGE_SEND_FAILED', message: 'Gagal mengirim pesan: not acknowledged' })
  whatsapp.failSends(null)
  const sent = new Promise<MessageSenderEventMap['sent'][0]>((resolve) => sender.events.once('sent', resolve))
  t.same(await sender.sendText('main', registered, 'y', 'otp'), { messageId: 'id-1', to: registered, jid: `${registered}@s.whatsapp.net` })
  t.match(await sent, { type: 'otp', messageId: 'id-1' })
})

t.test('unknown session: the registry\'s error, before any lookup', async (t) => {
  const { whatsapp, sender } = setup(t)
  await t.rejects(sender.sendText('other', registered, 'x'), { code: 'SESSION_NOT_FOUND', statusCode: 404 })
  t.same(whatsapp.lookups, [])
})

t.test('the cache is bounded: the oldest numbers are forgotten first', async (t) => {
  const { whatsapp, sender } = setup(t, 2)
  for (const phone of ['628100000001', '628100000002', '628100000003', '628100000001']) await sender.sendText('main', phone, 'x')
  t.same(whatsapp.lookups.flat(), ['628100000001', '628100000002', '628100000003', '628100000001'])
})

t.test('expired answers are dropped, so they never push a live one out of the bounded cache', async (t) => {
  const { whatsapp, sender, advance } = setup(t, 2)
  await sender.sendText('main', registered, 'trusted for a minute')
  await t.rejects(sender.sendText('main', unregistered, 'x'), { code: 'PHONE_NOT_ON_WHATSAPP' })
  // The "no" expires behind the older, still trusted "yes".
  advance(10_000)
  await sender.sendText('main', '628100000001', 'a new number: its answer is the second one kept')
  await sender.sendText('main', registered, 'still trusted')
  t.same(whatsapp.lookups, [[registered], [unregistered], ['628100000001']], 'the "yes" was not looked up again')
})

// What the wiring does on the registry's 'removed', and with REDIS_URL on its 'left', when the
// session's lease moved to another instance while sends waited for their turn (plugins/event-wiring.ts).
const droppedSessions = [
  { name: 'a removed session: waiting sends refused, lookups forgotten', drop: 'forgetSession', refusal: { code: 'SEND_QUEUE_CLOSED', statusCode: 503 } },
  {
    name: 'a session that moved to another instance: waiting sends told to come back, lookups forgotten',
    drop: 'sessionLeft',
    refusal: { code: 'SESSION_HOLDER_UNAVAILABLE', statusCode: 503, retryAfterSeconds: 15, message: 'Session main sedang dipindahkan ke instance lain, coba lagi sebentar' }
  }
] as const
for (const { name, drop, refusal } of droppedSessions) {
  t.test(name, async (t) => {
    const { whatsapp, sender } = setup(t)
    await sender.sendText('main', registered, 'warm the cache')
    whatsapp.holdSends()
    const sending = sender.sendText('main', registered, 'in flight')
    const waiting = sender.sendText('main', registered, 'waiting')
    await t.rejects(sender.sendText('main', registered, 'one too many'), { code: 'SEND_QUEUE_FULL', statusCode: 429, retryAfterSeconds: 1 })
    const dropping = sender[drop]('main')
    await t.rejects(waiting, refusal)
    whatsapp.release()
    t.match(await sending, { messageId: 'id-2' }, 'the send already in progress completes')
    await dropping

    await sender.sendText('main', registered, 'a new queue')
    t.equal(whatsapp.lookups.length, 2, 'the number is looked up again')
  })
}
