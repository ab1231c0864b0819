import t from 'tap'
import { defaultOtpTemplate, formatValidity, isValidAppName, renderOtpMessage, validateOtpTemplate } from '../src/otp-message.js'

t.test('the default message has the code, the minutes and the warning', async t => {
  const message = renderOtpMessage({ code: '048213', ttlSeconds: 300 })
  t.equal(message, 'Kode OTP Anda: 048213\nBerlaku 5 menit. Demi keamanan, jangan berikan kode ini kepada siapa pun.')
  t.match(message, 'jangan berikan kode ini kepada siapa pun')
})

t.test('the default message names the app when there is one', async t => {
  t.equal(
    renderOtpMessage({ code: '048213', ttlSeconds: 300, appName: 'Toko Maju' }),
    'Kode OTP Toko Maju Anda: 048213\nBerlaku 5 menit. Demi keamanan, jangan berikan kode ini kepada siapa pun.'
  )
  t.equal(renderOtpMessage({ code: '1', ttlSeconds: 300, appName: '' }), renderOtpMessage({ code: '1', ttlSeconds: 300 }), 'an empty name is no name')
})

t.test('a custom template gets every placeholder filled, each time it occurs', async t => {
  t.equal(
    renderOtpMessage({ template: '[{appName}] {code} / {code} ({minutes} menit)', code: '1234', ttlSeconds: 600, appName: 'Halo' }),
    '[Halo] 1234 / 1234 (10 menit)'
  )
})

t.test('without a name, {appName} disappears with the space before it', async t => {
  t.equal(renderOtpMessage({ template: 'Kode {appName} Anda {code}', code: '1234', ttlSeconds: 60 }), 'Kode Anda 1234')
  t.equal(renderOtpMessage({ template: '{appName}{code}', code: '1234', ttlSeconds: 60 }), '1234')
})

t.test('special replacement patterns in values are inserted literally', async t => {
  t.equal(renderOtpMessage({ template: '{appName} {code}', code: '1234', ttlSeconds: 60, appName: '$& $1 $$' }), '$& $1 $$ 1234')
})

t.test('{minutes}, for older templates, is written the Indonesian way', async t => {
  t.equal(renderOtpMessage({ template: '{code} {minutes} menit', code: '1', ttlSeconds: 90 }), '1 1,5 menit')
  t.equal(renderOtpMessage({ template: '{code} {minutes} menit', code: '1', ttlSeconds: 600 }), '1 10 menit')
})

// Regression (issue 10, item 10): expiresIn 30 or 90 read "Berlaku 0,5 menit" / "1,5 menit".
t.test('the default message says how long in words a person reads naturally', async t => {
  t.match(renderOtpMessage({ code: '1', ttlSeconds: 30 }), 'Berlaku 30 detik.')
  t.match(renderOtpMessage({ code: '1', ttlSeconds: 90 }), 'Berlaku 1 menit 30 detik.')
  t.match(renderOtpMessage({ code: '1', ttlSeconds: 300 }), 'Berlaku 5 menit.')
  t.match(renderOtpMessage({ code: '1', ttlSeconds: 86_400 }), 'Berlaku 24 jam.')
  t.notMatch(renderOtpMessage({ code: '1', ttlSeconds: 30 }), /\d,\d/, 'no decimals')
})

t.test('formatValidity: hours, minutes and seconds, zero parts left out', async t => {
  const cases: Array<[number, string]> = [
    [1, '1 detik'], [30, '30 detik'], [59, '59 detik'], [60, '1 menit'], [90, '1 menit 30 detik'], [300, '5 menit'],
    [3600, '1 jam'], [3660, '1 jam 1 menit'], [3601, '1 jam 1 detik'], [5400, '1 jam 30 menit'], [86_400, '24 jam'], [0, '0 detik']
  ]
  for (const [seconds, words] of cases) t.equal(formatValidity(seconds), words, `${seconds} s`)
})

// Regression (issue 10, item 10): `Bank\nKlik http://evil.example/login` reached the phone.
t.test('an app name is one short printable line without a link', async t => {
  for (const accepted of ['Toko Maju', 'Bank BRI', 'PT. Sinar Jaya', 'A&W', 'Kopi Kenangan (Jakarta)', 'Café Ünïcode', 'ร้านค้า', 'x'.repeat(40), 'Toko Maju.', 'a_b-c+d!']) {
    t.ok(isValidAppName(accepted), JSON.stringify(accepted))
  }
  for (const refused of [
    'Bank\nKlik http://evil.example/login', 'Bank\rX', 'Tab\there', 'Nul\u0000', 'x'.repeat(41), '', ' leading space',
    'http://evil.example', 'evil.example', 'Klik www.bank', 'bank/login', 'bank:8080', 'Bidi\u202Eevil', 'Zero\u200Bwidth', 'Emoji 🏦'
  ]) {
    t.notOk(isValidAppName(refused), JSON.stringify(refused))
  }
})

t.test('a template with control or invisible characters, or too long, is rejected', async t => {
  t.throws(() => validateOtpTemplate('{code}\u0007'), { message: /karakter kontrol/ })
  t.throws(() => validateOtpTemplate('{code} \u202Eevil'), { message: /karakter kontrol/ })
  t.throws(() => validateOtpTemplate('{code}\r\nx'), { message: /karakter kontrol/ })
  t.throws(() => validateOtpTemplate('{code}' + 'x'.repeat(1000)), { message: /paling panjang 1000/ })
  t.doesNotThrow(() => validateOtpTemplate('Kode: {code}\nBerlaku {validity}\nhttps://toko.example/bantuan'), 'line breaks and the operator\'s own link are fine')
})

t.test('a template without {code} is rejected', async t => {
  t.throws(() => validateOtpTemplate('Kode Anda berlaku {minutes} menit'), { message: 'Template OTP harus memuat {code}' })
  t.throws(() => renderOtpMessage({ template: 'Tidak ada kode', code: '1234', ttlSeconds: 300 }), { message: /harus memuat \{code\}/ })
})

t.test('a template with an unknown placeholder is rejected, naming it', async t => {
  t.throws(() => validateOtpTemplate('{code} berlaku {menit} menit untuk {app_name}'), {
    message: 'Template OTP memuat placeholder tidak dikenal: {menit}, {app_name}. Yang tersedia: {code}, {validity}, {minutes}, {appName}',
  })
  t.doesNotThrow(() => validateOtpTemplate('{code} {"json": 1} {}'), 'braces that are not placeholders are fine')
  t.doesNotThrow(() => validateOtpTemplate(defaultOtpTemplate))
})
