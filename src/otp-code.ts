import { createHmac, randomInt, timingSafeEqual } from 'node:crypto'

export const minimumOtpLength = 4
export const maximumOtpLength = 10

// Each digit is drawn separately: randomInt's range is limited to 2^48, and drawing digits keeps
// leading zeros as likely as any other digit, so every code of the length is equally probable.
export function generateOtpCode (length: number): string {
  if (!Number.isInteger(length) || length < minimumOtpLength || length > maximumOtpLength) {
    throw new RangeError(`OTP length must be an integer from ${minimumOtpLength} to ${maximumOtpLength}, got ${length}`)
  }
  let code = ''
  for (let index = 0; index < length; index++) code += String(randomInt(10))
  return code
}

// The phone number is part of the MAC so a hash leaked or copied from one number's entry
// can never verify a code for another number.
export function hashOtpCode (secret: string | Uint8Array, phone: string, code: string): string {
  return createHmac('sha256', secret).update(`${phone}\0${code}`).digest('hex')
}

export function otpCodeMatches (secret: string | Uint8Array, phone: string, code: string, hash: string): boolean {
  const expected = Buffer.from(hash, 'hex')
  const actual = Buffer.from(hashOtpCode(secret, phone, code), 'hex')
  // timingSafeEqual throws on different lengths; a stored hash of another length is simply no match.
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
