import { readdir } from 'node:fs/promises'
import t from 'tap'
import type { MessageSenderEventMap } from '../src/events.js'
import { authHeaders, build, buildWithSimulator, linkSession, temporaryDirectory } from './helper.js'
import * as samples from './helpers/media-samples.js'

// Uploads must never touch the disk. Whatever a library would write goes to os.tmpdir(), which
// follows TMPDIR: this file's own folder, so other test files running in parallel cannot add to it.
const privateTemporaryDirectory = await temporaryDirectory(t, 'messages-test-tmp-')
process.env.TMPDIR = privateTemporaryDirectory

const sessionId = 'sender'
const linkedPhone = '6281200000001'
const recipient = '628123456789'
const mediaMaxBytes = 64 * 1024

const { app, simulator } = await buildWithSimulator(t, {
  // The gap holds the queue's first send long enough for a burst of requests to fill it.
  env: { MEDIA_MAX_BYTES: String(mediaMaxBytes), SEND_QUEUE_MAX: '3', SEND_MIN_GAP_MS: '100' }
})
simulator.addContact(recipient)
await linkSession(app, simulator, sessionId, linkedPhone)

async function sendText (to: unknown, message: string, session = sessionId) {
  return await app.inject({ method: 'POST', url: `/api/messages/${session}/text`, headers: authHeaders, payload: { to, message } })
}

interface FilePart { bytes: Buffer, name: string, contentType?: string }

// The multipart body a browser or curl -F would send.
async function postMultipart (form: FormData, session = sessionId, target = app) {
  const encoded = new Response(form)
  return await target.inject({
    method: 'POST',
    url: `/api/messages/${session}/media`,
    headers: { ...authHeaders, 'content-type': encoded.headers.get('content-type') ?? '' },
    payload: Buffer.from(await encoded.arrayBuffer())
  })
}

async function sendMedia (fields: Record<string, string>, file?: FilePart, session = sessionId) {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) form.set(name, value)
  if (file !== undefined) form.set('file', new Blob([file.bytes], { type: file.contentType ?? 'application/octet-stream' }), file.name)
  return await postMultipart(form, session)
}

const troubleshootingGuideFormats = {
  accepted: ['08123456789', '8123456789', '628123456789'],
  rejected: ['+628123456789', '081-234-56789']
}

t.test('format-phone: the troubleshooting guide\'s table', async (t) => {
  for (const phone of troubleshootingGuideFormats.accepted) {
    const response = await app.inject({ method: 'GET', url: `/api/messages/format-phone/${phone}`, headers: authHeaders })
    t.equal(response.statusCode, 200, phone)
    t.same(response.json(), {
      success: true,
      data: { original: phone, formatted: '628123456789', jid: '628123456789@s.whatsapp.net', valid: true }
    }, phone)
  }
  for (const phone of troubleshootingGuideFormats.rejected) {
    const response = await app.inject({ method: 'GET', url: `/api/messages/format-phone/${encodeURIComponent(phone)}`, headers: authHeaders })
    t.equal(response.statusCode, 400, phone)
    t.equal(response.json().error, 'PHONE_INVALID_FORMAT', phone)
    t.match(response.json().message, /Gunakan angka saja, contoh 08123456789, 8123456789 atau 628123456789/, phone)
  }
  const tooShort = await app.inject({ method: 'GET', url: '/api/messages/format-phone/62999', headers: authHeaders })
  t.equal(tooShort.statusCode, 400, 'too short to be a number')
})

t.test('text: every accepted format reaches the phone, decrypted as sent', async (t) => {
  const sent: Array<MessageSenderEventMap['sent'][0]> = []
  const onSent = (event: MessageSenderEventMap['sent'][0]): void => { sent.push(event) }
  app.messageSender.events.on('sent', onSent)
  t.teardown(() => app.messageSender.events.off('sent', onSent))

  for (const phone of troubleshootingGuideFormats.accepted) {
    const text = `Test message to ${phone} ✅`
    const response = await sendText(phone, text)
    t.equal(response.statusCode, 200, response.body)
    const body = response.json()
    t.match(body, { success: true, message: 'Pesan berhasil dikirim', data: { to: recipient, jid: `${recipient}@s.whatsapp.net` } })
    const received = await simulator.nextMessage(recipient)
    t.equal(received.text, text)
    t.equal(received.id, body.data.messageId, 'the response names the message WhatsApp carried')
  }
  t.equal(sent.length, 3)
  t.match(sent[0], { sessionId, to: recipient, jid: `${recipient}@s.whatsapp.net`, type: 'text', at: Date })
})

t.test('text: rejected formats and a missing number are 400, nothing is sent', async (t) => {
  for (const phone of troubleshootingGuideFormats.rejected) {
    const response = await sendText(phone, 'never sent')
    t.equal(response.statusCode, 400, phone)
    t.equal(response.json().error, 'PHONE_INVALID_FORMAT')
  }
  const missing = await app.inject({ method: 'POST', url: `/api/messages/${sessionId}/text`, headers: authHeaders, payload: { message: 'hi' } })
  t.equal(missing.statusCode, 400)
  t.same(missing.json(), { success: false, message: 'Nomor telepon diperlukan', error: 'PHONE_REQUIRED' })
  const empty = await sendText('', 'hi')
  t.equal(empty.json().message, 'Nomor telepon diperlukan')
  t.same(simulator.pendingMessages(recipient), [])
})

t.test('text: a number that is not on WhatsApp is 422 and reported as failed', async (t) => {
  const failed = new Promise<MessageSenderEventMap['failed'][0]>((resolve) => app.messageSender.events.once('failed', resolve))
  const response = await sendText('6281299999999', 'nobody there')
  t.equal(response.statusCode, 422)
  t.same(response.json(), { success: false, message: 'Nomor tidak terdaftar di WhatsApp', error: 'PHONE_NOT_ON_WHATSAPP' })
  t.match(await failed, { sessionId, to: '6281299999999', type: 'text', errorCode: 'PHONE_NOT_ON_WHATSAPP', message: 'Nomor tidak terdaftar di WhatsApp' })
  // The negative answer is cached; asking again gives the same answer.
  t.equal((await sendText('6281299999999', 'still nobody')).statusCode, 422)
})

t.test('text: unknown session 404, session not connected 409 with the troubleshooting guide\'s message', async (t) => {
  const unknown = await sendText(recipient, 'hi', 'no-such-session')
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error, 'SESSION_NOT_FOUND')

  const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'not-scanned' } })
  t.equal(created.statusCode, 201)
  const notConnected = await sendText(recipient, 'hi', 'not-scanned')
  t.equal(notConnected.statusCode, 409)
  const result = notConnected.json()
  t.same(result, { success: false, message: 'Session tidak terhubung', error: 'SESSION_NOT_CONNECTED' })
  // The troubleshooting guide's client (best practices 2) decides on exactly these two fields.
  t.notOk(result.success)
  t.ok(result.message.includes('tidak terhubung'))
  await app.inject({ method: 'DELETE', url: '/api/sessions/not-scanned', headers: authHeaders })
})

const acceptedMedia: Array<[string, Buffer, string, string, string]> = [
  ['photo.jpg', samples.jpeg(), 'image', 'image/jpeg', 'photo.jpg'],
  ['logo.png', samples.png(), 'image', 'image/png', 'logo.png'],
  ['anim.gif', samples.gif(), 'image', 'image/gif', 'anim.gif'],
  ['pic.webp', samples.webp(), 'image', 'image/webp', 'pic.webp'],
  ['clip.mp4', samples.isoMedia('isom'), 'video', 'video/mp4', 'clip.mp4'],
  ['clip.mov', samples.isoMedia('qt'), 'video', 'video/quicktime', 'clip.mov'],
  ['clip.3gp', samples.isoMedia('3gp4'), 'video', 'video/3gpp', 'clip.3gp'],
  ['clip.avi', samples.avi(), 'document', 'video/x-msvideo', 'clip.avi'],
  ['clip.wmv', samples.asf('video'), 'document', 'video/x-ms-wmv', 'clip.wmv'],
  ['song.mp3', samples.mpegAudio({ id3: true }), 'audio', 'audio/mpeg', 'song.mp3'],
  ['sound.wav', samples.wav(), 'audio', 'audio/wav', 'sound.wav'],
  ['voice.ogg', samples.ogg('opus'), 'audio', 'audio/ogg; codecs=opus', 'voice.ogg'],
  ['song.m4a', samples.isoMedia('M4A'), 'audio', 'audio/mp4', 'song.m4a'],
  ['layer2.mpeg', samples.mpegAudio({ layer: 2 }), 'audio', 'audio/mpeg', 'layer2.mp2'],
  ['invoice.pdf', samples.pdf(), 'document', 'application/pdf', 'invoice.pdf'],
  ['letter.doc', samples.compoundFile([{ name: 'WordDocument', type: 'stream' }]), 'document', 'application/msword', 'letter.doc'],
  ['letter.docx', samples.docx(), 'document', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'letter.docx'],
  ['sheet.xls', samples.compoundFile([{ name: 'Workbook', type: 'stream' }]), 'document', 'application/vnd.ms-excel', 'sheet.xls'],
  ['sheet.xlsx', samples.xlsx(), 'document', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'sheet.xlsx'],
  ['notes.txt', Buffer.from('Catatan rapat\nbaris kedua\n'), 'document', 'text/plain', 'notes.txt'],
  ['kontak.csv', Buffer.from('nama,nomor\nBudi,08123456789\n'), 'document', 'text/csv', 'kontak.csv'],
  // The bytes decide, not the name the client gave: a PDF called .jpg arrives as a PDF.
  ['C:\\Users\\budi\\scan.jpg', samples.pdf(), 'document', 'application/pdf', 'scan.pdf'],
  ['.pdf', samples.pdf(), 'document', 'application/pdf', 'file.pdf']
]

t.test('media: every accepted kind arrives at the phone byte-identical', async (t) => {
  const temporaryFilesBefore = await readdir(privateTemporaryDirectory)
  for (const [name, bytes, kind, mimetype, fileName] of acceptedMedia) {
    const fields: Record<string, string> = kind === 'audio' ? { to: '08123456789' } : { to: '08123456789', caption: `Ini ${name}` }
    const response = await sendMedia(fields, { bytes, name, contentType: 'image/png' })
    t.equal(response.statusCode, 200, `${name}: ${response.body}`)
    t.match(response.json(), { success: true, message: 'File berhasil dikirim', data: { to: recipient, kind, mimetype, fileName, size: bytes.length } }, name)
    const received = await simulator.nextMessage(recipient)
    t.equal(received.id, response.json().data.messageId, name)
    t.equal(received.media?.kind, kind, name)
    t.equal(received.media?.mimetype, mimetype, name)
    t.ok(received.media?.bytes.equals(bytes), `${name} arrives byte-identical`)
    if (kind === 'document') t.equal(received.media?.fileName, fileName, name)
    if (kind !== 'audio') t.equal(received.media?.caption, `Ini ${name}`, name)
  }
  t.same(await readdir(privateTemporaryDirectory), temporaryFilesBefore, 'no upload left a file behind')
})

t.test('media: refused uploads answer in the envelope and leave nothing behind', async (t) => {
  const temporaryFilesBefore = await readdir(privateTemporaryDirectory)

  const svg = await sendMedia({ to: recipient }, { bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'), name: 'image.png', contentType: 'image/png' })
  t.equal(svg.statusCode, 415)
  t.same(svg.json(), { success: false, message: 'Tipe file image/svg+xml tidak didukung', error: 'FILE_TYPE_UNSUPPORTED' })

  const executable = await sendMedia({ to: recipient }, { bytes: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 1)]), name: 'setup.pdf' })
  t.equal(executable.statusCode, 415)
  t.match(executable.json().message, /^Tipe file \S+ tidak didukung$/)

  const tooLarge = await sendMedia({ to: recipient }, { bytes: Buffer.alloc(mediaMaxBytes + 1, 'a'), name: 'big.txt' })
  t.equal(tooLarge.statusCode, 413)
  t.same(tooLarge.json(), { success: false, message: `Ukuran file melebihi batas ${mediaMaxBytes} byte`, error: 'FILE_TOO_LARGE' })

  const withoutFile = await sendMedia({ to: recipient, caption: 'no file' })
  t.equal(withoutFile.statusCode, 400)
  t.equal(withoutFile.json().error, 'FILE_REQUIRED')

  const fileAsText = await sendMedia({ to: recipient, file: 'just text' })
  t.equal(fileAsText.statusCode, 400, 'a text field named file is not a file')
  t.equal(fileAsText.json().error, 'FILE_REQUIRED')

  const form = new FormData()
  form.set('to', recipient)
  form.set('document', new Blob([samples.pdf()]), 'invoice.pdf')
  const fileUnderAnotherName = await postMultipart(form)
  t.equal(fileUnderAnotherName.statusCode, 400)
  t.equal(fileUnderAnotherName.json().error, 'FILE_REQUIRED')

  const withoutNumber = await sendMedia({}, { bytes: samples.jpeg(), name: 'photo.jpg' })
  t.equal(withoutNumber.statusCode, 400)
  t.equal(withoutNumber.json().message, 'Nomor telepon diperlukan')

  const badNumber = await sendMedia({ to: '+628123456789' }, { bytes: samples.jpeg(), name: 'photo.jpg' })
  t.equal(badNumber.statusCode, 400)
  t.equal(badNumber.json().error, 'PHONE_INVALID_FORMAT')

  const notOnWhatsApp = await sendMedia({ to: '6281288888888' }, { bytes: samples.jpeg(), name: 'photo.jpg' })
  t.equal(notOnWhatsApp.statusCode, 422)

  const unknownSession = await sendMedia({ to: recipient }, { bytes: samples.jpeg(), name: 'photo.jpg' }, 'nobody')
  t.equal(unknownSession.statusCode, 404)

  t.same(simulator.pendingMessages(recipient), [], 'nothing reached the phone')
  t.same(await readdir(privateTemporaryDirectory), temporaryFilesBefore, 'no upload left a file behind')
})

t.test('a flood of sends meets the queue limit; every accepted message reaches the phone', async (t) => {
  const texts = Array.from({ length: 10 }, (_, index) => `flood ${index}`)
  const responses = await Promise.all(texts.map(async (text) => await sendText(recipient, text)))
  const accepted = texts.filter((_, index) => responses[index].statusCode === 200)
  const refused = responses.filter((response) => response.statusCode === 429)
  // One sending, SEND_QUEUE_MAX (3) waiting, the rest refused.
  t.equal(accepted.length, 4)
  t.equal(refused.length, 6)
  for (const response of refused) {
    t.equal(response.json().error, 'SEND_QUEUE_FULL')
    t.equal(response.headers['retry-after'], '1')
    t.equal(response.json().retryAfter, 1)
  }
  const received: string[] = []
  for (let index = 0; index < accepted.length; index++) received.push((await simulator.nextMessage(recipient)).text ?? '')
  t.same(received, accepted, 'all accepted messages arrive, in order')
  t.same(simulator.pendingMessages(recipient), [])
})

t.test('the size limit comes from MEDIA_MAX_BYTES', async (t) => {
  const { app: small } = await build(t, { env: { MEDIA_MAX_BYTES: '2048' } })
  const form = new FormData()
  form.set('to', recipient)
  form.set('file', new Blob([Buffer.alloc(2049, 'a')]), 'big.txt')
  const response = await postMultipart(form, 'any', small)
  t.equal(response.statusCode, 413)
  t.equal(response.json().message, 'Ukuran file melebihi batas 2048 byte')
})

t.test('the simulator met no protocol problems', async (t) => {
  t.same(simulator.problems, [])
})
