import t from 'tap'
import { loadConfig } from '../src/config.js'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'

// Regression (issue 10, item 10): `appName: "Bank\nKlik http://evil.example/login"` reached the
// phone inside the OTP message; a text of only spaces was sent; expiresIn 30 or 90 read
// "Berlaku 0,5 menit" / "1,5 menit".

const sessionId = 'otp-text'
const { app, simulator } = await buildWithSimulator(t, { env: { OTP_COOLDOWN_SECONDS: '0', OTP_MAX_PER_HOUR: '100' } })
await linkSession(app, simulator, sessionId, '6281300000009')
const recipient = '6281310000099'
simulator.addContact(recipient)

async function post (path: string, payload: Record<string, unknown>) {
  return await app.inject({ method: 'POST', url: `/api/messages/${sessionId}/${path}`, headers: authHeaders, payload })
}

const appNameInvalid = {
  success: false,
  message: 'appName tidak valid: gunakan 1-40 karakter dalam satu baris: huruf, angka, spasi dan . , & \' ( ) + ! _ -, tanpa link',
  error: 'APP_NAME_INVALID'
}

t.test('an appName with a second line, a link, control characters or over 40 characters is a 400', async (t) => {
  for (const appName of ['Bank\nKlik http://evil.example/login', 'Bank\r', 'Bank\u0000', 'Bank\u202Eevil', 'evil.example', 'http://x', 'x'.repeat(41), '', ' ']) {
    const response = await post('otp', { to: recipient, appName })
    t.equal(response.statusCode, 400, JSON.stringify(appName))
    t.same(response.json(), appNameInvalid, JSON.stringify(appName))
  }
  t.same(simulator.pendingMessages(recipient), [], 'nothing reached the phone')
})

t.test('a plain app name is used, and validity reads in seconds or whole minutes', async (t) => {
  const cases: Array<[number | undefined, string]> = [[30, '30 detik'], [90, '1 menit 30 detik'], [120, '2 menit'], [undefined, '5 menit'], [7200, '2 jam']]
  for (const [expiresIn, words] of cases) {
    const response = await post('otp', { to: recipient, appName: 'Bank Ünï (Jakarta)', ...(expiresIn === undefined ? {} : { expiresIn }) })
    t.equal(response.statusCode, 200, response.body)
    const { text } = await simulator.nextMessage(recipient)
    t.match(text, /^Kode OTP Bank Ünï \(Jakarta\) Anda: \d{6}\n/, `expiresIn ${expiresIn}`)
    t.match(text, `Berlaku ${words}. Demi keamanan`, `expiresIn ${expiresIn}`)
  }
})

t.test('a text message of only spaces or line breaks is refused', async (t) => {
  for (const message of [' ', '   ', '\n\t \n', '']) {
    const response = await post('text', { to: recipient, message })
    t.equal(response.statusCode, 400, JSON.stringify(message))
    t.same(response.json(), { success: false, message: 'Pesan harus berisi teks: 1-65536 karakter, tidak hanya spasi', error: 'MESSAGE_TEXT_INVALID' }, JSON.stringify(message))
  }
  const withText = await post('text', { to: recipient, message: '  halo  ' })
  t.equal(withText.statusCode, 200)
  t.equal((await simulator.nextMessage(recipient)).text, '  halo  ', 'text around spaces is sent as written')
})

t.test('OTP_APP_NAME gets the same rule at start, in a one-line message', async (t) => {
  t.throws(() => loadConfig({ OTP_APP_NAME: 'Bank\nKlik http://evil.example/login' }), {
    name: 'ConfigError',
    message: 'Invalid configuration: OTP_APP_NAME must be one line of 1-40 letters, digits, spaces and . , & \' ( ) + ! _ - (no line breaks, no links) (got "Bank\\nKlik http://evil.example/login")'
  })
  t.throws(() => loadConfig({ OTP_APP_NAME: 'x'.repeat(41) }), { name: 'ConfigError' })
  t.throws(() => loadConfig({ OTP_APP_NAME: 'toko.example' }), { name: 'ConfigError' })
  t.equal(loadConfig({ OTP_APP_NAME: 'Toko Maju' }).otpAppName, 'Toko Maju')
})

t.test('OTP_TEMPLATE refuses control and invisible characters, keeps line breaks', async (t) => {
  t.throws(() => loadConfig({ OTP_TEMPLATE: 'Kode {code}\u202E' }), { name: 'ConfigError', message: /OTP_TEMPLATE must be a usable template \(Template OTP memuat karakter kontrol/ })
  t.throws(() => loadConfig({ OTP_TEMPLATE: 'Kode {code}\u0007' }), { message: /\(got "Kode \{code\}\\u0007"\)$/, name: 'ConfigError' })
  t.equal(loadConfig({ OTP_TEMPLATE: 'Kode: {code}\nBerlaku {validity}' }).otpTemplate, 'Kode: {code}\nBerlaku {validity}')
})
