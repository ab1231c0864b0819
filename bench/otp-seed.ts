// Known right codes for the verify load: one code per number, put in the service's state store
// (DATA_DIR, or Redis with REDIS_URL) before the service starts, through the product's own OTP path
// (the state store it opens, its OTP secret, the OTP service's reserve and commit), minus the
// WhatsApp message. A right code is spent by its first
// verify, so a load of successful verifies needs as many codes as requests.
import { loadOrCreateOtpSecret } from '../plugins/otp.js'
import { openStateStore } from '../plugins/state-store.js'
import { loadConfig } from '../src/config.js'
import { createOtpService } from '../src/otp-service.js'
import { createStateOtpStore } from '../src/otp-state-store.js'
import { normalizePhoneNumber } from '../src/phone-number.js'

// `environment`: the service's own settings (DATA_DIR; REDIS_URL and OTP_SECRET on Redis).
export async function seedOtpCodes (
  environment: Record<string, string>,
  phones: string[],
  ttlSeconds: number
): Promise<Map<string, string>> {
  const config = loadConfig(environment)
  const store = await openStateStore(config)
  const service = createOtpService({
    store: createStateOtpStore(store),
    secret: config.otpSecret ?? await loadOrCreateOtpSecret(config.dataDirectory),
    length: config.otpLength,
    ttlSeconds: config.otpTtlSeconds,
    maxAttempts: config.otpMaxAttempts,
    cooldownSeconds: config.otpCooldownSeconds,
    maxPerHour: config.otpMaxPerHour
  })
  const codes = new Map<string, string>()
  try {
    let next = 0
    // Many at a time: the embedded store writes concurrent changes in one transaction.
    await Promise.all(Array.from({ length: 100 }, async () => {
      while (next < phones.length) {
        const phone = normalizePhoneNumber(phones[next++]).formatted
        const reservation = await service.reserveSend(phone, { ttlSeconds })
        await service.commit(reservation)
        codes.set(phone, reservation.code)
      }
    }))
  } finally {
    await store.close()
  }
  return codes
}
