import t from 'tap'
import { defaultOtpTemplate, renderOtpMessage, validateOtpTemplate } from '../src/otp-message.js'

t.test('the default message has the code, the minutes and the warning', async t => {
  const message = renderOtpMessage({ code: '048213', minutes: 5 })
  t.equal(message, 'Kode OTP Anda: 048213\nBerlaku 5 menit. Demi keamanan, jangan berikan kode ini kepada siapa pun.')
  t.match(message, 'jangan berikan kode ini kepada siapa pun')
})

t.test('the default message names the app when there is one', async t => {
  t.equal(
    renderOtpMessage({ code: '048213', minutes: 5, appName: 'Toko Maju' }),
    'Kode OTP Toko Maju Anda: 048213\nBerlaku 5 menit. Demi keamanan, jangan berikan kode ini kepada siapa pun.',
  )
  t.equal(renderOtpMessage({ code: '1', minutes: 5, appName: '' }), renderOtpMessage({ code: '1', minutes: 5 }), 'an empty name is no name')
})

t.test('a custom template gets every placeholder filled, each time it occurs', async t => {
  t.equal(
    renderOtpMessage({ template: '[{appName}] {code} / {code} ({minutes} menit)', code: '1234', minutes: 10, appName: 'Halo' }),
    '[Halo] 1234 / 1234 (10 menit)',
  )
})

t.test('without a name, {appName} disappears with the space before it', async t => {
  t.equal(renderOtpMessage({ template: 'Kode {appName} Anda {code}', code: '1234', minutes: 1 }), 'Kode Anda 1234')
  t.equal(renderOtpMessage({ template: '{appName}{code}', code: '1234', minutes: 1 }), '1234')
})

t.test('special replacement patterns in values are inserted literally', async t => {
  t.equal(renderOtpMessage({ template: '{appName} {code}', code: '1234', minutes: 1, appName: '$& $1 $$' }), '$& $1 $$ 1234')
})

t.test('minutes are written the Indonesian way', async t => {
  t.match(renderOtpMessage({ code: '1', minutes: 1.5 }), 'Berlaku 1,5 menit')
  t.match(renderOtpMessage({ code: '1', minutes: 10 }), 'Berlaku 10 menit')
})

t.test('a template without {code} is rejected', async t => {
  t.throws(() => validateOtpTemplate('Kode Anda berlaku {minutes} menit'), { message: 'Template OTP harus memuat {code}' })
  t.throws(() => renderOtpMessage({ template: 'Tidak ada kode', code: '1234', minutes: 5 }), { message: /harus memuat \{code\}/ })
})

t.test('a template with an unknown placeholder is rejected, naming it', async t => {
  t.throws(() => validateOtpTemplate('{code} berlaku {menit} menit untuk {app_name}'), {
    message: 'Template OTP memuat placeholder tidak dikenal: {menit}, {app_name}. Yang tersedia: {code}, {minutes}, {appName}',
  })
  t.doesNotThrow(() => validateOtpTemplate('{code} {"json": 1} {}'), 'braces that are not placeholders are fine')
  t.doesNotThrow(() => validateOtpTemplate(defaultOtpTemplate))
})
