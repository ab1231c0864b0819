import { WAMessageStatus, jidNormalizedUser, type ConnectionState, type NewChatMessageCapInfo, type WAMessage, type WAMessageUpdate, type WASocket } from '@whiskeysockets/baileys'
import t from 'tap'
import { closeBaileysClient, linkBaileysSocket, waitForConnectionUpdate } from './baileys-client.js'
import { startControlApi } from './control-api.js'
import { startSimulator } from './index.js'

/**
 * Statuses from messages.update, recorded from before the send: the nack of a refused message can
 * arrive (and be emitted) before Baileys' sendMessage has resolved with the message id.
 */
function recordStatusUpdates (socket: WASocket) {
  const seen = new Map<string, WAMessageUpdate['update']>()
  const waiting = new Map<string, (update: WAMessageUpdate['update']) => void>()
  socket.ev.on('messages.update', (updates) => {
    for (const { key, update } of updates) {
      if (!key.id || update.status === undefined || seen.has(key.id)) continue
      seen.set(key.id, update)
      waiting.get(key.id)?.(update)
    }
  })
  return {
    /** The first status update of that message, whether it came already or comes later. */
    next (messageId: string): Promise<WAMessageUpdate['update']> {
      const update = seen.get(messageId)
      if (update) return Promise.resolve(update)
      return new Promise((resolve) => waiting.set(messageId, resolve))
    },
  }
}

function nextInboundUpsert (socket: WASocket, messageId: string): Promise<WAMessage> {
  return new Promise((resolve) => {
    const listener = ({ messages }: { messages: WAMessage[] }) => {
      const message = messages.find((candidate) => candidate.key?.id === messageId)
      if (!message) return
      socket.ev.off('messages.upsert', listener)
      resolve(message)
    }
    socket.ev.on('messages.upsert', listener)
  })
}

const timelockUpdate = (socket: WASocket, active: boolean): Promise<Partial<ConnectionState>> =>
  waitForConnectionUpdate(socket, (update) => update.reachoutTimeLock?.isActive === active)

t.test('a restricted account: new chats refused with 463, existing chats delivered, lifted again', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const account = '6281200000101'
  const client = await linkBaileysSocket(simulator, { phone: account })
  t.teardown(() => closeBaileysClient(client))
  const statuses = recordStatusUpdates(client.socket)
  const wroteFirst = simulator.addContact('6281300000101')
  const writtenBefore = simulator.addContact('6281300000102')
  const stranger = simulator.addContact('6281300000103')

  // Chats that exist before the restriction: one contact wrote first, one was written to.
  const inboundId = await simulator.sendText(wroteFirst.phone, account, 'halo')
  await nextInboundUpsert(client.socket, inboundId)
  await client.socket.sendMessage(writtenBefore.jid, { text: 'sebelum pembatasan' })
  await simulator.nextMessage(writtenBefore.phone)
  t.ok(simulator.hasChat(account, wroteFirst.phone) && simulator.hasChat(account, writtenBefore.phone))
  t.notOk(simulator.hasChat(account, stranger.phone))

  const until = new Date(Math.ceil(Date.now() / 1000 + 3600) * 1000)
  const restricted = timelockUpdate(client.socket, true)
  simulator.restrictAccount(account, { until, enforcementType: 'BIZ_QUALITY' })
  t.same((await restricted).reachoutTimeLock, { isActive: true, timeEnforcementEnds: until, enforcementType: 'BIZ_QUALITY' })

  t.test('a message to a new contact is refused: status ERROR with 463, nothing delivered', async (t) => {
    const refusal = simulator.waitFor('message-refused')
    const sent = await client.socket.sendMessage(stranger.jid, { text: 'Kode OTP Anda: 111111' })
    const update = await statuses.next(sent!.key.id!)
    t.equal(update.status, WAMessageStatus.ERROR)
    t.same(update.messageStubParameters, ['463', 'Your account has been restricted'])
    t.same(await refusal, { phone: account, to: stranger.phone, messageId: sent!.key.id })
    t.equal(simulator.refusedMessages, 1)
    t.same(simulator.pendingMessages(stranger.phone), [], 'the stranger got nothing')
    t.notOk(simulator.hasChat(account, stranger.phone), 'a refused message starts no chat')
  })

  t.test('a chat whose contact wrote goes out: the stanza carries the token its privacy_token notification gave', async (t) => {
    const accepted = simulator.waitFor('token-accepted')
    const sent = await client.socket.sendMessage(wroteFirst.jid, { text: 'Kode OTP Anda: 222222' })
    t.equal((await simulator.nextMessage(wroteFirst.phone)).text, 'Kode OTP Anda: 222222')
    t.same(await accepted, { phone: account, to: wroteFirst.phone, messageId: sent!.key.id })
    const stored = await client.socket.authState.keys.get('tctoken', [wroteFirst.lid])
    t.same(Buffer.from(stored[wroteFirst.lid]!.token), simulator.privacyToken(account, wroteFirst.phone)!.token, 'Baileys stored it under the LID')
    t.equal(simulator.refusedMessages, 1)
  })

  t.test('a chat the account only wrote to holds no token of the contact: refused like a new one', async (t) => {
    const refusal = simulator.waitFor('message-refused')
    const sent = await client.socket.sendMessage(writtenBefore.jid, { text: 'Kode OTP Anda: 333333' })
    t.same(await refusal, { phone: account, to: writtenBefore.phone, messageId: sent!.key.id })
    t.same(simulator.pendingMessages(writtenBefore.phone), [], 'nothing delivered')
    t.equal(simulator.privacyToken(account, writtenBefore.phone), undefined)
    t.equal(simulator.refusedMessages, 2)
  })

  t.test('Baileys can ask for the timelock (w:mex xwa2_fetch_account_reachout_timelock)', async (t) => {
    const state = await client.socket.fetchAccountReachoutTimelock()
    t.same(state, { isActive: true, timeEnforcementEnds: until, enforcementType: 'BIZ_QUALITY' })
  })

  t.test('lifting notifies and new chats go out again', async (t) => {
    const lifted = timelockUpdate(client.socket, false)
    simulator.liftRestriction(account)
    t.same((await lifted).reachoutTimeLock, { isActive: false, enforcementType: 'DEFAULT' })
    t.same(await client.socket.fetchAccountReachoutTimelock(), { isActive: false, timeEnforcementEnds: undefined, enforcementType: 'DEFAULT' })
    await client.socket.sendMessage(stranger.jid, { text: 'Kode OTP Anda: 444444' })
    t.equal((await simulator.nextMessage(stranger.phone)).text, 'Kode OTP Anda: 444444')
    t.ok(simulator.hasChat(account, stranger.phone))
  })

  t.test('a restriction without an announced end: Baileys assumes now + 60 s', async (t) => {
    const restrictedAgain = timelockUpdate(client.socket, true)
    const before = Date.now()
    simulator.restrictAccount(account)
    const { reachoutTimeLock } = await restrictedAgain
    t.equal(reachoutTimeLock?.enforcementType, 'DEFAULT')
    const ends = reachoutTimeLock!.timeEnforcementEnds!.getTime()
    t.ok(ends >= before + 60000 && ends <= Date.now() + 60000, 'now + 60 s')
    const lifted = timelockUpdate(client.socket, false)
    simulator.liftRestriction(account)
    await lifted
  })

  t.test('a restriction whose end has passed is gone (lazily, without a notification)', async (t) => {
    simulator.restrictAccount(account, { until: new Date(Date.now() - 1000), notify: false })
    t.equal(simulator.restriction(account), undefined)
    const fresh = simulator.addContact('6281300000104')
    await client.socket.sendMessage(fresh.jid, { text: 'sesudah' })
    t.equal((await simulator.nextMessage(fresh.phone)).text, 'sesudah')
    t.same(simulator.problems, [])
  })
})

t.test('the new-chat message cap: query answered, update pushed', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const account = '6281200000102'
  const client = await linkBaileysSocket(simulator, { phone: account })
  t.teardown(() => closeBaileysClient(client))
  const contact = simulator.addContact('6281300000111')
  await client.socket.sendMessage(contact.jid, { text: 'satu' })
  await simulator.nextMessage(contact.phone)

  const initial = (await client.socket.fetchNewChatMessageCap()) as NewChatMessageCapInfo
  t.match(initial, { total_quota: 0, used_quota: 1, capping_status: 'NONE', cycle_end_timestamp: /^\d+$/ })

  const pushed = new Promise<NewChatMessageCapInfo>((resolve) => client.socket.ev.on('message-capping.update', resolve))
  simulator.setNewChatMessageCap(account, { total_quota: 10, used_quota: 9, capping_status: 'SECOND_WARNING' as NewChatMessageCapInfo['capping_status'] })
  t.match(await pushed, { total_quota: 10, used_quota: 9, capping_status: 'SECOND_WARNING' })
  t.match(await client.socket.fetchNewChatMessageCap(), { total_quota: 10, used_quota: 9, capping_status: 'SECOND_WARNING' })
})

t.test('inbound texts from a LID-addressed sender, with and without the alternate PN', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const account = '6281200000103'
  const client = await linkBaileysSocket(simulator, { phone: account })
  t.teardown(() => closeBaileysClient(client))
  const lidMapping = client.socket.signalRepository.lidMapping

  t.test('with sender_pn: key.remoteJidAlt is the number, Baileys stores the mapping', async (t) => {
    const contact = simulator.addContact('6281300000121')
    const inbound = simulator.waitFor('inbound', (event) => event.from === contact.phone)
    const id = await simulator.sendText(contact.phone, account, 'kode 123456', { addressing: 'lid', alternateAddress: true })
    const message = await nextInboundUpsert(client.socket, id)
    t.equal(message.key?.remoteJid, contact.lid)
    t.equal(message.key?.remoteJidAlt, contact.jid)
    t.equal(message.key?.addressingMode, 'lid')
    t.equal(message.message?.conversation, 'kode 123456')
    t.match(await inbound, { encType: 'pkmsg', addressing: 'lid' })
    // The mapping is kept per device (…:0@s.whatsapp.net).
    t.equal(jidNormalizedUser((await lidMapping.getPNForLID(contact.lid)) ?? undefined), contact.jid)
  })

  t.test('without it: decrypted, the LID unresolved', async (t) => {
    const contact = simulator.addContact('6281300000122')
    const id = await simulator.sendText(contact.phone, account, 'kode 654321', { addressing: 'lid' })
    const message = await nextInboundUpsert(client.socket, id)
    t.equal(message.key?.remoteJid, contact.lid)
    t.equal(message.key?.remoteJidAlt, undefined)
    t.equal(message.message?.conversation, 'kode 654321')
    t.equal(await lidMapping.getPNForLID(contact.lid), null)
  })

  t.test('a LID-addressed msg on the session Baileys opened by writing first', async (t) => {
    const contact = simulator.addContact('6281300000123')
    await client.socket.sendMessage(contact.jid, { text: 'halo' })
    await simulator.nextMessage(contact.phone)
    const inbound = simulator.waitFor('inbound', (event) => event.from === contact.phone)
    const id = await simulator.sendText(contact.phone, account, 'balasan', { addressing: 'lid' })
    const message = await nextInboundUpsert(client.socket, id)
    t.equal((await inbound).encType, 'msg', 'continues the session, no prekey message')
    t.equal(message.message?.conversation, 'balasan')
    t.equal(message.key?.remoteJid, contact.lid)
  })

  t.test('PN-addressed with sender_lid: key.remoteJidAlt is the LID', async (t) => {
    const contact = simulator.addContact('6281300000124')
    const id = await simulator.sendText(contact.phone, account, 'lewat nomor', { alternateAddress: true })
    const message = await nextInboundUpsert(client.socket, id)
    t.equal(message.key?.remoteJid, contact.jid)
    t.equal(message.key?.remoteJidAlt, contact.lid)
    t.equal(message.message?.conversation, 'lewat nomor')
    t.same(simulator.problems, [])
  })
})

t.test('the control API drives restrictions and reads the replaced counter', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const control = await startControlApi(simulator)
  t.teardown(() => control.server.close())
  const post = async (path: string, body: unknown) => {
    const response = await fetch(control.url + path, { method: 'POST', body: JSON.stringify(body) })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  const account = '6281200000104'
  const client = await linkBaileysSocket(simulator, { phone: account })
  t.teardown(() => closeBaileysClient(client))
  const statuses = recordStatusUpdates(client.socket)

  const restricted = timelockUpdate(client.socket, true)
  t.same(await post('/restrict', { phone: account, until: 4102444800 }), { status: 200, body: { ok: true } })
  t.same((await restricted).reachoutTimeLock?.timeEnforcementEnds, new Date(4102444800 * 1000))
  const state = await (await fetch(`${control.url}/phones/${account}/restriction`)).json()
  t.same(state, { restricted: true, until: '2100-01-01T00:00:00.000Z', enforcementType: 'DEFAULT' })

  const stranger = simulator.addContact('6281300000131')
  const sent = await client.socket.sendMessage(stranger.jid, { text: 'x' })
  t.equal((await statuses.next(sent!.key.id!)).status, WAMessageStatus.ERROR)

  const lifted = timelockUpdate(client.socket, false)
  await post('/lift', { phone: account })
  await lifted

  const lidInbound = await post('/inbound', { from: '6281300000132', to: account, text: 'hai', addressing: 'lid', alternateAddress: true })
  t.equal(lidInbound.status, 200)
  const message = await nextInboundUpsert(client.socket, lidInbound.body.id as string)
  t.equal(message.key?.remoteJidAlt, '6281300000132@s.whatsapp.net')

  t.same(await (await fetch(`${control.url}/replaced`)).json(), { total: 0, byPhone: {} })
  t.same(await post('/restrict', { phone: account, until: 'tomorrow' }), { status: 400, body: { error: '"until" must be unix seconds' } })
})
