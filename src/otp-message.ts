export const defaultOtpTemplate =
  'Kode OTP Anda: {code}\nBerlaku {validity}. Demi keamanan, jangan berikan kode ini kepada siapa pun.'

export const defaultOtpTemplateWithAppName =
  'Kode OTP {appName} Anda: {code}\nBerlaku {validity}. Demi keamanan, jangan berikan kode ini kepada siapa pun.'

const knownPlaceholders = ['{code}', '{validity}', '{minutes}', '{appName}']

// The app name lands inside a message people trust, so it must not be able to carry a second line,
// a link or invisible characters: one short line of letters (any script, with their accents), digits, spaces and a few
// marks. No "/" or ":" (no URL scheme or path), and no dot directly before a letter or digit, since
// WhatsApp turns a bare domain such as evil.example into a tappable link too.
export const appNameMaxLength = 40
export const appNamePattern = `^(?=.{1,${appNameMaxLength}}$)[\\p{L}\\p{N}](?:[\\p{L}\\p{M}\\p{N} ,&'()+!_-]|\\.(?![\\p{L}\\p{N}]))*$`
const appNameExpression = new RegExp(appNamePattern, 'u')
export const appNameRule = `1-${appNameMaxLength} karakter dalam satu baris: huruf, angka, spasi dan . , & ' ( ) + ! _ -, tanpa link`

export function isValidAppName (appName: string): boolean {
  return appNameExpression.test(appName)
}

// The operator's own text may span lines and hold a link on purpose; it must still not hide
// control characters (other than line breaks) in a message people trust.
export const otpTemplateMaxLength = 1000

export interface OtpMessageInput {
  template?: string
  code: string
  ttlSeconds: number
  appName?: string
}

// Throws when a template could never deliver a usable message, so configuration can reject
// OTP_TEMPLATE at start instead of sending codeless messages. A misspelt placeholder such as
// {kode} would otherwise reach the user literally.
export function validateOtpTemplate (template: string): void {
  if (!template.includes('{code}')) {
    throw new Error('Template OTP harus memuat {code}')
  }
  if (template.length > otpTemplateMaxLength) {
    throw new Error(`Template OTP paling panjang ${otpTemplateMaxLength} karakter`)
  }
  if (/[\p{Cc}\p{Cf}]/u.test(template.replaceAll('\n', ''))) {
    throw new Error('Template OTP memuat karakter kontrol atau tak terlihat (selain baris baru)')
  }
  const unknown = [...template.matchAll(/\{[A-Za-z_]\w*\}/g)]
    .map(match => match[0])
    .filter(placeholder => !knownPlaceholders.includes(placeholder))
  if (unknown.length > 0) {
    throw new Error(`Template OTP memuat placeholder tidak dikenal: ${unknown.join(', ')}. Yang tersedia: ${knownPlaceholders.join(', ')}`)
  }
}

export function renderOtpMessage ({ template, code, ttlSeconds, appName }: OtpMessageInput): string {
  const chosen = template ?? (appName ? defaultOtpTemplateWithAppName : defaultOtpTemplate)
  validateOtpTemplate(chosen)
  // Function replacements, so "$&" or "$1" in a name or code is inserted literally.
  return chosen
    .replaceAll('{code}', () => code)
    .replaceAll('{validity}', () => formatValidity(ttlSeconds))
    .replaceAll('{minutes}', () => formatMinutes(ttlSeconds / 60))
    // Without a name the placeholder goes together with the space before it:
    // "Kode OTP {appName} Anda" reads "Kode OTP Anda", not "Kode OTP  Anda".
    .replace(/( ?)\{appName\}/g, (_match, space: string) => appName ? space + appName : '')
}

// How long a code lives, in the words a person would say: "30 detik", "5 menit",
// "1 menit 30 detik", "2 jam". ("Berlaku 0,5 menit" is what {minutes} gave for 30 seconds.)
export function formatValidity (seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds))
  const parts = [
    [Math.floor(whole / 3600), 'jam'],
    [Math.floor(whole % 3600 / 60), 'menit'],
    [whole % 60, 'detik']
  ] as const
  const spoken = parts.filter(([amount]) => amount > 0).map(([amount, unit]) => `${amount} ${unit}`)
  return spoken.length === 0 ? '0 detik' : spoken.join(' ')
}

// {minutes}, kept for templates written before {validity}: Indonesian writes decimals with a
// comma (1,5 menit).
function formatMinutes (minutes: number): string {
  return minutes.toLocaleString('id-ID', { maximumFractionDigits: 1 })
}
