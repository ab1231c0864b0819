import type { WAMessageUpdate, proto } from '@whiskeysockets/baileys'
import t from 'tap'
import { closeBaileysClient, linkBaileysSocket } from './baileys-client.js'
import { startSimulator } from './index.js'

t.test('messages between a linked device and contacts', { timeout: 20000 }, async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const client = await linkBaileysSocket(simulator, { phone: '6281200000001' })
  t.teardown(() => closeBaileysClient(client))
  const contact = simulator.addContact('6281300000001')
  t.match(contact, { phone: '6281300000001', jid: '6281300000001@s.whatsapp.net', lid: /^\d+@lid$/ })

  t.test('onWhatsApp answers in for contacts and drops unknown numbers', async (t) => {
    const results = await client.socket.onWhatsApp('+6281300000001', '+6281399999999')
    t.same(results, [{ jid: '6281300000001@s.whatsapp.net', exists: true }])
  })

  t.test('texts are decrypted by the contact', async (t) => {
    const first = await client.socket.sendMessage(contact.jid, { text: 'Kode OTP Anda: 123456' })
    const received = await simulator.nextMessage(contact.phone)
    t.equal(received.text, 'Kode OTP Anda: 123456')
    t.equal(received.id, first?.key.id)
    t.equal(received.encType, 'pkmsg')
    t.equal(received.from, '6281200000001:1@s.whatsapp.net')
    const second = await client.socket.sendMessage(contact.jid, { text: 'Kode OTP Anda: 654321' })
    const receivedSecond = await simulator.nextMessage(contact.phone)
    t.equal(receivedSecond.text, 'Kode OTP Anda: 654321')
    t.equal(receivedSecond.id, second?.key.id)
    // Signal keeps sending pkmsg until the recipient has answered once (see the inbound test).
    t.equal(receivedSecond.encType, 'pkmsg')
    t.same(simulator.problems, [])
  })

  t.test('delivery and read receipts reach Baileys as messages.update', async (t) => {
    const sent = await client.socket.sendMessage(contact.jid, { text: 'receipt please' })
    await simulator.nextMessage(contact.phone)
    const statuses: number[] = []
    const bothReceipts = new Promise<void>((resolve) => {
      const listener = (updates: WAMessageUpdate[]) => {
        for (const { key, update } of updates) {
          if (key.id === sent?.key.id && typeof update.status === 'number') statuses.push(update.status)
        }
        if (statuses.length >= 2) {
          client.socket.ev.off('messages.update', listener)
          resolve()
        }
      }
      client.socket.ev.on('messages.update', listener)
    })
    await simulator.sendReceipt(contact.phone, sent!.key.id!, 'delivered')
    await simulator.sendReceipt(contact.phone, sent!.key.id!, 'read')
    await bothReceipts
    t.same(statuses, [3, 4], 'DELIVERY_ACK then READ')
  })

  t.test('media round trip: the phone gets the original bytes', async (t) => {
    const document = Buffer.from('%PDF-1.4 simulated invoice ' + 'x'.repeat(5000))
    await client.socket.sendMessage(contact.jid, {
      document,
      mimetype: 'application/pdf',
      fileName: 'invoice.pdf',
      caption: 'Your invoice',
    })
    const received = await simulator.nextMessage(contact.phone)
    t.equal(received.media?.kind, 'document')
    t.equal(received.media?.mimetype, 'application/pdf')
    t.equal(received.media?.fileName, 'invoice.pdf')
    t.ok(received.media?.bytes.equals(document), 'byte-identical')
  })

  t.test('an inbound text arrives as messages.upsert notify; the answer after it is a msg', async (t) => {
    const upsert = new Promise<proto.IWebMessageInfo>((resolve) => {
      client.socket.ev.on('messages.upsert', ({ messages, type }) => {
        const message = messages.find((candidate) => !candidate.key.fromMe)
        if (type === 'notify' && message) resolve(message)
      })
    })
    const id = await simulator.sendText(contact.phone, client.phone, 'halo dari kontak')
    const message = await upsert
    t.equal(message.key?.id, id)
    t.equal(message.message?.conversation, 'halo dari kontak')

    // Once the contact has written, Baileys answers on the established session: a plain msg.
    await client.socket.sendMessage(contact.jid, { text: 'balasan' })
    const reply = await simulator.nextMessage(contact.phone)
    t.equal(reply.text, 'balasan')
    t.equal(reply.encType, 'msg')
  })
})
