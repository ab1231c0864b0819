import t from 'tap'
import { generateOtpCode, hashOtpCode, otpCodeMatches } from '../src/otp-code.js'

t.test('codes have the asked length and only digits', async t => {
  for (const length of [4, 6, 10]) {
    const code = generateOtpCode(length)
    t.match(code, new RegExp(`^\\d{${length}}$`), `length ${length}`)
  }
})

t.test('lengths outside 4..10 or not integers are refused', async t => {
  for (const length of [3, 11, 0, -6, 6.5, Number.NaN]) {
    t.throws(() => generateOtpCode(length), RangeError, String(length))
  }
})

t.test('every digit occurs in every position, leading zeros included', async t => {
  const seen = Array.from({ length: 4 }, () => new Set<string>())
  for (let round = 0; round < 2000; round++) {
    const code = generateOtpCode(4)
    for (let position = 0; position < 4; position++) seen[position].add(code[position])
  }
  // With 2000 draws the chance that a digit never shows in a position is about 10 * 0.9^2000.
  for (const digits of seen) t.equal(digits.size, 10)
})

t.test('the hash is an HMAC-SHA256 bound to the secret, the phone and the code', async t => {
  const hash = hashOtpCode('secret', '628123456789', '123456')
  t.match(hash, /^[0-9a-f]{64}$/)
  t.not(hash.includes('123456'), true, 'the code is not readable from the hash')
  t.equal(hashOtpCode('secret', '628123456789', '123456'), hash, 'deterministic')
  t.not(hashOtpCode('other', '628123456789', '123456'), hash, 'secret matters')
  t.not(hashOtpCode('secret', '628123456780', '123456'), hash, 'phone matters')
  t.not(hashOtpCode('secret', '628123456789', '123457'), hash, 'code matters')
  // the separator keeps "6281|23" and "628|123" apart
  t.not(hashOtpCode('secret', '6281', '23'), hashOtpCode('secret', '628', '123'))
})

t.test('a code matches only its own hash, for its own number', async t => {
  const secret = Buffer.from('a binary secret')
  const hash = hashOtpCode(secret, '628123456789', '123456')
  t.equal(otpCodeMatches(secret, '628123456789', '123456', hash), true)
  t.equal(otpCodeMatches(secret, '628123456789', '654321', hash), false)
  t.equal(otpCodeMatches(secret, '6591234567', '123456', hash), false, 'a hash cannot be replayed for another number')
  t.equal(otpCodeMatches('another secret', '628123456789', '123456', hash), false)
})

t.test('a malformed stored hash is no match instead of an exception', async t => {
  t.equal(otpCodeMatches('secret', '628123456789', '123456', ''), false)
  t.equal(otpCodeMatches('secret', '628123456789', '123456', 'abcd'), false)
})
