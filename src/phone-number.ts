import { createRequire } from 'node:module'
import { errors } from './errors.js'

export interface NormalizedPhoneNumber {
  original: string
  formatted: string
  jid: string
  valid: boolean
}

const indonesiaCountryCode = '62'
// E.164 allows at most 15 digits; below 8 no country's numbers are reachable on WhatsApp.
const minimumDigits = 8
const maximumDigits = 15
const longestInputShownInErrors = 40

// The full metadata is megabytes of memory that only the format-phone route's `valid` needs:
// loaded the first time it is asked for (synchronously, so `valid` stays a plain field to read).
let libphonenumber: typeof import('libphonenumber-js/max') | undefined
function isValidNumber (e164: string): boolean {
  libphonenumber ??= createRequire(import.meta.url)('libphonenumber-js/max') as typeof import('libphonenumber-js/max')
  return libphonenumber.parsePhoneNumberFromString(e164)?.isValid() ?? false
}

// The troubleshooting guide's contract (section 4): digits only, written the way people in
// Indonesia write numbers. A leading 0 is the Indonesian national prefix, a leading 8 is an
// Indonesian mobile number without it, anything else already starts with its country code.
//
// `valid` is libphonenumber's opinion and only informative: routes that send reject format errors
// (thrown here) but not `valid: false`, because the library's ranges lag behind newly issued
// numbers and the onWhatsApp check is the real test of whether a number can receive messages.
export function normalizePhoneNumber (input: unknown): NormalizedPhoneNumber {
  const original = phoneNumberText(input)
  if (!/^\d+$/.test(original)) {
    throw new errors.PHONE_INVALID_FORMAT(`${quoted(original)} mengandung karakter selain angka`)
  }
  if (original.startsWith('00')) {
    // 00 is a dialling prefix, not part of the number; guessing what follows it would be wrong
    // as often as right, so the caller is told to write the country code directly.
    throw new errors.PHONE_INVALID_FORMAT(`${quoted(original)} diawali 00, tulis kode negara tanpa 00`)
  }

  const formatted = withCountryCode(original)
  if (formatted.length < minimumDigits) {
    throw new errors.PHONE_INVALID_FORMAT(`${quoted(original)} terlalu pendek (minimal ${minimumDigits} digit)`)
  }
  if (formatted.length > maximumDigits) {
    throw new errors.PHONE_INVALID_FORMAT(`${quoted(original)} terlalu panjang (maksimal ${maximumDigits} digit)`)
  }

  return {
    original,
    formatted,
    jid: `${formatted}@s.whatsapp.net`,
    // Asked for by the format-phone route only: parsing with the full metadata costs more than
    // the rest of a verify request, which needs the digits alone.
    get valid () { return isValidNumber(`+${formatted}`) },
  }
}

function phoneNumberText (input: unknown): string {
  if (input === undefined || input === null) throw new errors.PHONE_REQUIRED()
  if (typeof input !== 'string') {
    throw new errors.PHONE_INVALID_FORMAT(`harus berupa teks, bukan ${typeof input}`)
  }
  if (input.trim() === '') throw new errors.PHONE_REQUIRED()
  return input
}

function withCountryCode (digits: string): string {
  if (digits.startsWith('0')) return indonesiaCountryCode + digits.slice(1)
  if (digits.startsWith('8')) return indonesiaCountryCode + digits
  // "62 0812..." is a frequent way of writing Indonesian numbers; no Indonesian number has a 0
  // after the country code, so the 0 can only be the national prefix typed by habit.
  if (digits.startsWith(`${indonesiaCountryCode}0`)) return indonesiaCountryCode + digits.slice(3)
  return digits
}

function quoted (text: string): string {
  const shown = text.length > longestInputShownInErrors ? `${text.slice(0, longestInputShownInErrors)}…` : text
  return JSON.stringify(shown)
}
