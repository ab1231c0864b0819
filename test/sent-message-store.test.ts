// Contents of sent messages are kept for WhatsApp's resend requests (a phone that could not
// decrypt a message asks for it again through Baileys' getMessage). The simulator does not send
// such retry requests, so the tests check what getMessage reads: the stored content, across a
// restart of the app on the same DATA_DIR.
import t from 'tap'
import { proto } from '@whiskeysockets/baileys'
import { createSentMessageStore } from '../src/sent-message-store.js'
import { authHeaders, buildWithSimulator, linkSession, temporaryDirectory } from './helper.js'
import { openTestStateStore } from './helpers/state-store.js'

t.test('a content is kept for its time, per session and message id', async (t) => {
  let now = Date.UTC(2026, 0, 1)
  const store = await openTestStateStore(t, { clock: () => now })
  const sentMessages = createSentMessageStore(store.records<string>('sent-message'), { ttlMs: 1000, clock: () => now })
  await sentMessages.remember('shop', 'M1', 'content-1')
  t.equal(await sentMessages.recall('shop', 'M1'), 'content-1')
  t.equal(await sentMessages.recall('other', 'M1'), undefined, 'a message id belongs to its session')
  now += 1000
  t.equal(await sentMessages.recall('shop', 'M1'), undefined, 'forgotten after its time')
})

t.test('a text sent through the API is kept, readable after the app restarts on the same folders', async (t) => {
  const directory = await temporaryDirectory(t)
  const { app, simulator } = await buildWithSimulator(t, { directory })
  await linkSession(app, simulator, 'shop', '6281300000021')
  simulator.addContact('6281330000001')
  const sent = await app.inject({ method: 'POST', url: '/api/messages/shop/text', headers: authHeaders, payload: { to: '6281330000001', message: 'kept for a resend' } })
  t.equal(sent.statusCode, 200, sent.body)
  const messageId = sent.json().data.messageId as string
  await app.close()

  const { app: restarted } = await buildWithSimulator(t, { directory, simulator })
  const stored = await createSentMessageStore(restarted.stateStore.records<string>('sent-message')).recall('shop', messageId)
  t.ok(stored, 'the content outlived the restart')
  const content = proto.Message.decode(Buffer.from(stored as string, 'base64'))
  t.equal(content.conversation ?? content.extendedTextMessage?.text, 'kept for a resend')
})
