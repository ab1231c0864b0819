import t from 'tap'
import { normalizePhoneNumber } from '../src/phone-number.js'

const formatHint = 'Gunakan angka saja, contoh 08123456789, 8123456789 atau 628123456789'

t.test('the troubleshooting guide\'s table: 08…, 8… and 62… all become 62…', async t => {
  for (const input of ['08123456789', '8123456789', '628123456789']) {
    t.same(normalizePhoneNumber(input), {
      original: input,
      formatted: '628123456789',
      jid: '628123456789@s.whatsapp.net',
      valid: true,
    }, input)
  }
})

t.test('the troubleshooting guide\'s table: +62… and numbers with dashes are rejected with the right format in the message', async t => {
  for (const input of ['+628123456789', '081-234-56789', '0812 3456 789', ' 08123456789']) {
    t.throws(() => normalizePhoneNumber(input), {
      code: 'PHONE_INVALID_FORMAT',
      statusCode: 400,
      message: `Format nomor telepon tidak valid: ${JSON.stringify(input)} mengandung karakter selain angka. ${formatHint}`,
    }, input)
  }
})

t.test('a missing or empty number answers "Nomor telepon diperlukan"', async t => {
  for (const input of [undefined, null, '', '   ']) {
    t.throws(() => normalizePhoneNumber(input), {
      code: 'PHONE_REQUIRED',
      statusCode: 400,
      message: 'Nomor telepon diperlukan',
    }, String(input))
  }
})

t.test('numbers of other countries keep their country code', async t => {
  t.same(normalizePhoneNumber('6591234567'), {
    original: '6591234567',
    formatted: '6591234567',
    jid: '6591234567@s.whatsapp.net',
    valid: true,
  })
  t.equal(normalizePhoneNumber('14155552671').formatted, '14155552671')
})

t.test('a 0 typed after 62 is the national prefix and is dropped', async t => {
  t.equal(normalizePhoneNumber('6208123456789').formatted, '628123456789')
})

t.test('a number the library does not know is reported with valid: false, not rejected', async t => {
  const result = normalizePhoneNumber('6212345678')
  t.equal(result.formatted, '6212345678')
  t.equal(result.valid, false)
})

t.test('a number that is not text is a format error: the API schemas accept strings only', async t => {
  t.throws(() => normalizePhoneNumber(8123456789), { code: 'PHONE_INVALID_FORMAT', message: /bukan number/ })
  t.throws(() => normalizePhoneNumber(-8123456789), { code: 'PHONE_INVALID_FORMAT' })
  t.throws(() => normalizePhoneNumber(8.5), { code: 'PHONE_INVALID_FORMAT' })
})

t.test('other types are a format error naming the type', async t => {
  t.throws(() => normalizePhoneNumber({ number: '08123456789' }), {
    code: 'PHONE_INVALID_FORMAT',
    message: `Format nomor telepon tidak valid: harus berupa teks, bukan object. ${formatHint}`,
  })
  t.throws(() => normalizePhoneNumber(true), { message: /bukan boolean/ })
})

t.test('lengths outside 8..15 digits after normalizing are rejected', async t => {
  t.equal(normalizePhoneNumber('12345678').formatted, '12345678')
  t.throws(() => normalizePhoneNumber('1234567'), {
    code: 'PHONE_INVALID_FORMAT',
    message: `Format nomor telepon tidak valid: "1234567" terlalu pendek (minimal 8 digit). ${formatHint}`,
  })
  // 0 + 5 digits becomes 62 + 5 digits: 7 digits
  t.throws(() => normalizePhoneNumber('012345'), { message: /terlalu pendek/ })
  t.equal(normalizePhoneNumber('123456789012345').formatted, '123456789012345')
  t.throws(() => normalizePhoneNumber('1234567890123456'), {
    message: `Format nomor telepon tidak valid: "1234567890123456" terlalu panjang (maksimal 15 digit). ${formatHint}`,
  })
  // 8 + 14 digits becomes 62 + 8 + 13 digits: 16
  t.throws(() => normalizePhoneNumber('81234567890123'), { message: /terlalu panjang/ })
})

t.test('the 00 dialling prefix is rejected rather than guessed', async t => {
  t.throws(() => normalizePhoneNumber('00628123456789'), {
    code: 'PHONE_INVALID_FORMAT',
    message: /"00628123456789" diawali 00, tulis kode negara tanpa 00/,
  })
})

t.test('a very long input is shortened in the error message', async t => {
  const input = 'x'.repeat(1000)
  t.throws(() => normalizePhoneNumber(input), {
    message: `Format nomor telepon tidak valid: "${'x'.repeat(40)}…" mengandung karakter selain angka. ${formatHint}`,
  })
})

t.test('a number with an unknown country code is kept and reported invalid', async t => {
  t.same(normalizePhoneNumber('99912345678'), {
    original: '99912345678',
    formatted: '99912345678',
    jid: '99912345678@s.whatsapp.net',
    valid: false,
  })
})
