export const defaultOtpTemplate =
  'Kode OTP Anda: {code}\nBerlaku {minutes} menit. Demi keamanan, jangan berikan kode ini kepada siapa pun.'

export const defaultOtpTemplateWithAppName =
  'Kode OTP {appName} Anda: {code}\nBerlaku {minutes} menit. Demi keamanan, jangan berikan kode ini kepada siapa pun.'

const knownPlaceholders = ['{code}', '{minutes}', '{appName}']

export interface OtpMessageInput {
  template?: string
  code: string
  minutes: number
  appName?: string
}

// Throws when a template could never deliver a usable message, so configuration can reject
// OTP_TEMPLATE at start instead of sending codeless messages. A misspelt placeholder such as
// {kode} would otherwise reach the user literally.
export function validateOtpTemplate (template: string): void {
  if (!template.includes('{code}')) {
    throw new Error('Template OTP harus memuat {code}')
  }
  const unknown = [...template.matchAll(/\{[A-Za-z_]\w*\}/g)]
    .map(match => match[0])
    .filter(placeholder => !knownPlaceholders.includes(placeholder))
  if (unknown.length > 0) {
    throw new Error(`Template OTP memuat placeholder tidak dikenal: ${unknown.join(', ')}. Yang tersedia: ${knownPlaceholders.join(', ')}`)
  }
}

export function renderOtpMessage ({ template, code, minutes, appName }: OtpMessageInput): string {
  const chosen = template ?? (appName ? defaultOtpTemplateWithAppName : defaultOtpTemplate)
  validateOtpTemplate(chosen)
  // Function replacements, so "$&" or "$1" in a name or code is inserted literally.
  return chosen
    .replaceAll('{code}', () => code)
    .replaceAll('{minutes}', () => formatMinutes(minutes))
    // Without a name the placeholder goes together with the space before it:
    // "Kode OTP {appName} Anda" reads "Kode OTP Anda", not "Kode OTP  Anda".
    .replace(/( ?)\{appName\}/g, (_match, space: string) => appName ? space + appName : '')
}

// Indonesian writes decimals with a comma: 1,5 menit.
function formatMinutes (minutes: number): string {
  return minutes.toLocaleString('id-ID', { maximumFractionDigits: 1 })
}
