import type { EventEmitter } from 'node:events'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { createOtp, loadOrCreateOtpSecret } from '../plugins/otp.js'
import { loadConfig } from '../src/config.js'
import { createOtpService } from '../src/otp-service.js'
import { createMemoryOtpStore } from '../src/otp-store.js'
import type { MessageSenderEventMap, OtpEventMap, VerificationEventMap } from '../src/events.js'
import { authHeaders, buildWithSimulator, linkSession, temporaryDirectory, type TestContext } from './helper.js'

const sessionId = 'otp'
const { app, simulator, readAppLog, config } = await buildWithSimulator(t)
await linkSession(app, simulator, sessionId, '6281300000001')

// A recipient of its own for each test, so one test's cooldown never meets another's send.
let nextRecipient = 6281310000001
function newRecipient (): string {
  const phone = String(nextRecipient++)
  simulator.addContact(phone)
  return phone
}

async function sendOtp (body: Record<string, unknown>, session = sessionId, target = app) {
  return await target.inject({ method: 'POST', url: `/api/messages/${session}/otp`, headers: authHeaders, payload: body })
}

async function verifyOtp (to: string, code: string, target = app) {
  return await target.inject({ method: 'POST', url: '/api/otp/verify', headers: authHeaders, payload: { to, code } })
}

// The code as the phone's owner reads it in the message.
async function codeAt (phone: string): Promise<{ code: string, text: string }> {
  const text = (await simulator.nextMessage(phone)).text ?? ''
  const code = /: (\d+)\n/.exec(text)?.[1]
  if (code === undefined) throw new Error(`no code in ${JSON.stringify(text)}`)
  return { code, text }
}

function wrongCodeFor (code: string): string {
  return code === '000000' ? '111111' : '000000'
}

// Every event of that name while the test runs.
function collect<Event> (t: TestContext, emitter: EventEmitter, name: string): Event[] {
  const events: Event[] = []
  const listener = (event: Event): void => { events.push(event) }
  emitter.on(name, listener)
  t.teardown(() => emitter.off(name, listener))
  return events
}

t.test('the code decrypted at the phone verifies exactly once', async (t) => {
  const phone = newRecipient()
  const otpSent = collect<OtpEventMap['sent'][0]>(t, app.otp.events as EventEmitter, 'sent')
  const verified = collect<VerificationEventMap['approved'][0]>(t, app.verifications.events as EventEmitter, 'approved')
  const messagesSent = collect<MessageSenderEventMap['sent'][0]>(t, app.messageSender.events as EventEmitter, 'sent')
  const before = Date.now()

  const response = await sendOtp({ to: `0${phone.slice(2)}` })
  t.equal(response.statusCode, 200, response.body)
  const result = response.json()
  t.equal(result.success, true)
  t.equal(result.message, 'OTP berhasil dikirim')
  t.notOk('code' in result.data, 'the code is not in the response')
  t.equal(result.data.to, phone)
  const expiresAt = Date.parse(result.data.expiresAt)
  t.ok(expiresAt >= before + 300_000 && expiresAt <= Date.now() + 300_000, 'valid OTP_TTL_SECONDS')
  t.ok(Date.parse(result.data.resendAfter) >= before + 60_000, 'resend after the cooldown')

  const { code, text } = await codeAt(phone)
  t.match(code, /^\d{6}$/)
  t.equal(text, `Kode OTP Anda: ${code}\nBerlaku 5 menit. Demi keamanan, jangan berikan kode ini kepada siapa pun.`)

  const first = await verifyOtp(phone, code)
  t.equal(first.statusCode, 200)
  t.same(first.json(), { success: true, message: 'Kode OTP valid', data: { verified: true, to: phone } })
  const second = await verifyOtp(phone, code)
  t.equal(second.statusCode, 404, 'spent')
  t.equal(second.json().error, 'OTP_NOT_FOUND')

  t.match(otpSent, [{ sessionId, to: phone, messageId: result.data.messageId, expiresAt: new Date(expiresAt), at: Date }])
  t.match(verified, [{ to: phone, method: 'outbound', verification: { to: phone, status: 'approved', sessionId }, at: Date }])
  t.match(messagesSent, [{ sessionId, to: phone, messageId: result.data.messageId, type: 'otp' }])

  const log = await readAppLog()
  t.notOk(log.includes(`"${code}"`), 'the code is in no log field')
  t.notOk(log.includes('Kode OTP Anda'), 'the message text is not logged')
})

t.test('wrong codes count down to a void code', async (t) => {
  const phone = newRecipient()
  const failures = collect<OtpEventMap['failed'][0]>(t, app.otp.events as EventEmitter, 'failed')
  t.equal((await sendOtp({ to: phone })).statusCode, 200)
  const { code } = await codeAt(phone)
  const wrong = wrongCodeFor(code)

  for (let attemptsLeft = config.otpMaxAttempts - 1; attemptsLeft > 0; attemptsLeft--) {
    const response = await verifyOtp(phone, wrong)
    t.equal(response.statusCode, 400)
    t.same(response.json(), { success: false, message: `Kode OTP salah, sisa percobaan: ${attemptsLeft}`, error: 'OTP_INVALID', attemptsLeft })
  }
  const last = await verifyOtp(phone, wrong)
  t.equal(last.statusCode, 429)
  t.equal(last.json().error, 'OTP_TOO_MANY_ATTEMPTS')
  const right = await verifyOtp(phone, code)
  t.equal(right.statusCode, 429, 'the right code no longer works either')

  t.same(failures.map((failure) => [failure.reason, failure.attemptsLeft]), [
    ['invalid', 4], ['invalid', 3], ['invalid', 2], ['invalid', 1], ['too_many_attempts', 0], ['too_many_attempts', 0]
  ])
  const unknown = await verifyOtp(String(nextRecipient++), '123456')
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), { success: false, message: 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru', error: 'OTP_NOT_FOUND' })
  t.match(failures.at(-1), { reason: 'not_found', attemptsLeft: null })
})

t.test('DELETE of a verification voids its code: right or wrong, 404 OTP_NOT_FOUND as for no code', async (t) => {
  const phone = newRecipient()
  const failures = collect<OtpEventMap['failed'][0]>(t, app.otp.events as EventEmitter, 'failed')
  const verified = collect<VerificationEventMap['approved'][0]>(t, app.verifications.events as EventEmitter, 'approved')
  const sent = await sendOtp({ to: phone })
  t.equal(sent.statusCode, 200, sent.body)
  const { verificationId } = sent.json().data
  const { code } = await codeAt(phone)
  const canceled = await app.inject({ method: 'DELETE', url: `/api/otp/verifications/${verificationId}`, headers: authHeaders })
  t.equal(canceled.statusCode, 200, canceled.body)
  t.equal(canceled.json().data.status, 'canceled')

  const notFound = { success: false, message: 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru', error: 'OTP_NOT_FOUND' }
  for (const [tried, label] of [[code, 'its right code'], [wrongCodeFor(code), 'a wrong code: 404, not 400'], [code, 'the right code again: no attempt was spent']]) {
    const response = await verifyOtp(phone, tried)
    t.equal(response.statusCode, 404, label)
    t.same(response.json(), notFound, label)
  }
  t.same(verified, [], 'nothing approved')
  // Like a number without a code, which is what it now is: each try is an otp.failed.
  t.same(failures.map((failure) => [failure.reason, failure.attemptsLeft]), [['not_found', null], ['not_found', null], ['not_found', null]])
  const verification = await app.inject({ method: 'GET', url: `/api/otp/verifications/${verificationId}`, headers: authHeaders })
  t.equal(verification.json().data.status, 'canceled')
  t.equal((await sendOtp({ to: phone })).statusCode, 429, 'the canceled send still holds the cooldown')
})

t.test('one send per cooldown: 429 with Retry-After and the seconds in Indonesian', async (t) => {
  const phone = newRecipient()
  t.equal((await sendOtp({ to: phone })).statusCode, 200)
  const { code } = await codeAt(phone)
  const again = await sendOtp({ to: phone })
  t.equal(again.statusCode, 429)
  const retryAfter = Number(again.headers['retry-after'])
  t.ok(retryAfter > 55 && retryAfter <= 60, `Retry-After ${retryAfter}`)
  t.same(again.json(), {
    success: false,
    message: `OTP untuk nomor ini baru saja dikirim, tunggu ${retryAfter} detik sebelum meminta lagi`,
    error: 'OTP_COOLDOWN',
    retryAfter
  })
  t.same(simulator.pendingMessages(phone), [], 'no second message')
  t.equal((await verifyOtp(phone, code)).statusCode, 200, 'the code sent first still works')
})

t.test('a number not on WhatsApp: 422, no code left behind, and the answer costs the number its cooldown', async (t) => {
  const stranger = '6281399999999'
  const response = await sendOtp({ to: stranger })
  t.equal(response.statusCode, 422)
  t.same(response.json(), { success: false, message: 'Nomor tidak terdaftar di WhatsApp', error: 'PHONE_NOT_ON_WHATSAPP' })
  t.equal((await verifyOtp(stranger, '123456')).json().error, 'OTP_NOT_FOUND')
  // Otherwise the API answers "is this number on WhatsApp?" for a number as often as it is asked.
  const again = await sendOtp({ to: stranger })
  t.equal(again.statusCode, 429, 'asked again within the cooldown')
  t.equal(again.json().error, 'OTP_COOLDOWN')
})

t.test('an unknown session during a number\'s cooldown is 404, not the cooldown', async (t) => {
  const phone = newRecipient()
  t.equal((await sendOtp({ to: phone })).statusCode, 200)
  await codeAt(phone)
  const unknown = await sendOtp({ to: phone }, 'no-such-session')
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error, 'SESSION_NOT_FOUND')
})

t.test('the troubleshooting guide\'s sendOTPWithRetry: unknown session 404, not connected 409 `tidak terhubung`', async (t) => {
  const phone = newRecipient()
  const unknown = await sendOtp({ to: phone }, 'no-such-session')
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().success, false)

  const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'waiting-for-scan' } })
  t.equal(created.statusCode, 201)
  t.teardown(async () => { await app.inject({ method: 'DELETE', url: '/api/sessions/waiting-for-scan', headers: authHeaders }) })
  for (let attempt = 1; attempt <= 2; attempt++) {
    const response = await sendOtp({ to: phone }, 'waiting-for-scan')
    t.equal(response.statusCode, 409, `attempt ${attempt} is refused for the session, not for the cooldown`)
    const result = response.json()
    t.equal(result.success, false)
    t.ok(result.message.includes('tidak terhubung'), result.message)
  }
  t.equal((await verifyOtp(phone, '123456')).json().error, 'OTP_NOT_FOUND', 'no code was left valid')

  // The troubleshooting guide's client retries on the same session once it is connected: the first try counts.
  const retried = await sendOtp({ to: phone })
  t.equal(retried.statusCode, 200)
  const result = retried.json()
  t.ok(result.success)
  t.equal((await verifyOtp(phone, (await codeAt(phone)).code)).statusCode, 200)
})

t.test('overrides: length, expiresIn and appName; bad values are 400', async (t) => {
  const phone = newRecipient()
  const before = Date.now()
  const response = await sendOtp({ to: phone, length: 8, expiresIn: 90, appName: 'Toko Budi' })
  t.equal(response.statusCode, 200, response.body)
  const expiresAt = Date.parse(response.json().data.expiresAt)
  t.ok(expiresAt >= before + 90_000 && expiresAt <= Date.now() + 90_000)
  const { code, text } = await codeAt(phone)
  t.match(code, /^\d{8}$/)
  t.equal(text, `Kode OTP Toko Budi Anda: ${code}\nBerlaku 1 menit 30 detik. Demi keamanan, jangan berikan kode ini kepada siapa pun.`)

  for (const body of [{ to: phone, length: 3 }, { to: phone, length: 11 }, { to: phone, expiresIn: 5 }, { to: Number(phone) }, { to: phone, appName: '' }]) {
    const refused = await sendOtp(body)
    t.equal(refused.statusCode, 400, JSON.stringify(body))
    t.equal(refused.json().error, 'appName' in body ? 'APP_NAME_INVALID' : 'VALIDATION_FAILED')
  }
  t.equal((await sendOtp({})).json().message, 'Nomor telepon diperlukan')
  t.equal((await sendOtp({ to: '+628123456789' })).json().error, 'PHONE_INVALID_FORMAT')
  const notDigits = await verifyOtp(phone, 'abcdef')
  t.equal(notDigits.statusCode, 400)
  t.equal((await verifyOtp(phone, code)).statusCode, 200, 'a malformed code did not use up an attempt')
})

t.test('expiry, with an injected clock', async (t) => {
  let now = Date.parse('2025-01-01T08:00:00Z')
  const clock = (): number => now
  const otp = createOtp({
    service: createOtpService({ store: createMemoryOtpStore({ clock }), secret: 'test-secret-0123456789', clock, length: 6, ttlSeconds: 300, maxAttempts: 5, cooldownSeconds: 60, maxPerHour: 5 }),
    messageSender: app.messageSender,
    ttlSeconds: 300,
    exposeCode: false,
    clock
  })
  const failures = collect<OtpEventMap['failed'][0]>(t, otp.events as EventEmitter, 'failed')
  const phone = newRecipient()
  const sent = await otp.sendCode(sessionId, phone)
  t.same(sent.expiresAt, new Date(now + 300_000))
  t.same(sent.resendAfter, new Date(now + 60_000))
  const { code } = await codeAt(phone)

  now += 300_000
  await t.rejects(otp.verify(phone, code), { code: 'OTP_EXPIRED', statusCode: 410, message: 'Kode OTP sudah kedaluwarsa. Minta kode baru' })
  t.match(failures, [{ to: phone, reason: 'expired', attemptsLeft: null, at: new Date(now) }])

  const renewed = await otp.sendCode(sessionId, phone)
  t.same(renewed.expiresAt, new Date(now + 300_000), 'a new code after the cooldown')
  await otp.verify(phone, (await codeAt(phone)).code)
})

t.test('the code is valid for expiresIn from when it was sent, not from the request', async (t) => {
  let now = Date.parse('2025-01-01T09:00:00Z')
  const clock = (): number => now
  const requestedAt = now
  const otp = createOtp({
    service: createOtpService({ store: createMemoryOtpStore({ clock }), secret: 'test-secret-0123456789', clock, length: 6, ttlSeconds: 300, maxAttempts: 5, cooldownSeconds: 60, maxPerHour: 5 }),
    messageSender: {
      assertCanSend: app.messageSender.assertCanSend,
      // The send waits 15 s for its turn in the session's queue before WhatsApp takes it.
      async sendText (...args) {
        now += 15_000
        return await app.messageSender.sendText(...args)
      }
    },
    ttlSeconds: 300,
    exposeCode: false,
    clock
  })
  const phone = newRecipient()
  const sent = await otp.sendCode(sessionId, phone)
  t.same(sent.expiresAt, new Date(requestedAt + 15_000 + 300_000))
  const { code } = await codeAt(phone)
  now = requestedAt + 300_000 + 1000
  await t.resolves(otp.verify(phone, code), 'five minutes after the request but not after the send: still valid')
})

t.test('hourly cap, exposed code, own template, a new code replaces the old', async (t) => {
  const { app: exposing } = await buildWithSimulator(t, {
    simulator,
    env: {
      OTP_EXPOSE_CODE: 'true',
      OTP_COOLDOWN_SECONDS: '0',
      OTP_MAX_PER_HOUR: '2',
      OTP_APP_NAME: 'Warung',
      OTP_TEMPLATE: '{appName}: {code} ({minutes} menit)',
      OTP_SECRET: 'a-configured-secret-0123456789'
    }
  })
  await linkSession(exposing, simulator, 'exposing', '6281300000002')
  const phone = newRecipient()

  const first = await sendOtp({ to: phone }, 'exposing', exposing)
  t.equal(first.statusCode, 200)
  const firstCode = first.json().data.code as string
  t.equal((await simulator.nextMessage(phone)).text, `Warung: ${firstCode} (5 menit)`, 'the exposed code is the one sent')

  const second = await sendOtp({ to: phone }, 'exposing', exposing)
  t.equal(second.statusCode, 200)
  const secondCode = second.json().data.code as string
  await simulator.nextMessage(phone)
  t.ok(Date.parse(second.json().data.resendAfter) - Date.now() > 3500_000, 'the next send waits for the hour window')

  const capped = await sendOtp({ to: phone }, 'exposing', exposing)
  t.equal(capped.statusCode, 429)
  const retryAfter = Number(capped.headers['retry-after'])
  t.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After ${retryAfter}`)
  t.same(capped.json(), {
    success: false,
    message: `Batas pengiriman OTP per jam untuk nomor ini tercapai, coba lagi dalam ${retryAfter} detik`,
    error: 'OTP_HOURLY_LIMIT',
    retryAfter
  })

  if (firstCode !== secondCode) {
    t.equal((await verifyOtp(phone, firstCode, exposing)).statusCode, 400, 'the replaced code is refused')
  }
  t.equal((await verifyOtp(phone, secondCode, exposing)).statusCode, 200)
})

t.test('OTP_SECRET: generated once in DATA_DIR, private, reused', async (t) => {
  const path = join(config.dataDirectory, 'otp-secret')
  const secret = await readFile(path, 'utf8')
  t.match(secret, /^[0-9a-f]{64}$/)
  t.equal((await stat(path)).mode & 0o777, 0o600)
  t.equal(await loadOrCreateOtpSecret(config.dataDirectory), secret, 'a restart reads the same secret')

  const directory = await temporaryDirectory(t, 'otp-secret-')
  await writeFile(join(directory, 'otp-secret'), 'short\n')
  await t.rejects(loadOrCreateOtpSecret(directory), /less than 16 characters/)
  await t.rejects(loadOrCreateOtpSecret(join(path, 'not-a-directory')), { code: 'ENOTDIR' })
})

t.test('OTP_TEMPLATE is checked at start', async (t) => {
  t.throws(() => loadConfig({ OTP_TEMPLATE: 'Kode Anda {kode}' }), { name: 'ConfigError', message: /OTP_TEMPLATE must be a usable template \(Template OTP harus memuat \{code\}\)/ })
  t.throws(() => loadConfig({ OTP_TEMPLATE: '{code} untuk {aplikasi}' }), { message: /OTP_TEMPLATE .*placeholder tidak dikenal: \{aplikasi\}/ })
  t.equal(loadConfig({ OTP_TEMPLATE: 'Kode: {code}' }).otpTemplate, 'Kode: {code}')
})

t.test('the simulator met no protocol problems', async (t) => {
  t.same(simulator.problems, [])
})
