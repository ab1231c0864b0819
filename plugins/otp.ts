import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { writeFileAtomic } from '../src/atomic-file.js'
import { renderOtpMessage } from '../src/otp-message.js'
import { createOtpService, type OtpSendOverrides, type OtpService } from '../src/otp-service.js'
import { createStateOtpStore } from '../src/otp-state-store.js'
import { normalizePhoneNumber } from '../src/phone-number.js'
import type { OtpEventMap, OtpFailureReason } from '../src/events.js'
import type { MessageSender } from './message-sender.js'

export interface OtpSent {
  messageId: string
  to: string
  expiresAt: Date
  resendAfter: Date
  // Only when the operator turned OTP_EXPOSE_CODE on, for testing their own integration.
  code?: string
}

export interface OtpOptions {
  service: OtpService
  messageSender: Pick<MessageSender, 'sendText' | 'assertCanSend'>
  ttlSeconds: number
  template?: string
  appName?: string
  exposeCode: boolean
  clock?: () => number
}

export interface Otp {
  events: EventEmitter<OtpEventMap>
  // `verificationId` is kept with the code, so that voidCode can tell it from a newer code.
  sendCode: (sessionId: string, to: string, overrides?: OtpSendOverrides, verificationId?: string) => Promise<OtpSent>
  // With the verification the code was sent for (null when the code did not keep one).
  verify: (to: string, code: string) => Promise<{ to: string, verificationId: string | null }>
  // The number's code stops verifying, if it is still the one sent for that verification.
  voidCode: (phone: string, verificationId: string) => Promise<boolean>
}

declare module 'fastify' {
  interface FastifyInstance {
    otp: Otp
    // The HMAC secret of codes, for the other kinds of code (inbound verifications).
    otpSecret: string
  }
}

const failureReasons: Record<string, OtpFailureReason> = {
  OTP_INVALID: 'invalid',
  OTP_EXPIRED: 'expired',
  OTP_TOO_MANY_ATTEMPTS: 'too_many_attempts',
  OTP_NOT_FOUND: 'not_found'
}

export function createOtp (options: OtpOptions): Otp {
  const { service, messageSender, exposeCode } = options
  const clock = options.clock ?? Date.now
  const events = new EventEmitter<OtpEventMap>()

  async function sendCode (sessionId: string, to: string, overrides: OtpSendOverrides = {}, verificationId?: string): Promise<OtpSent> {
    const phone = normalizePhoneNumber(to).formatted
    const ttlSeconds = overrides.ttlSeconds ?? options.ttlSeconds
    // A session that does not exist or is not connected is the caller's problem to hear about,
    // not a cooldown: checked before anything is reserved for the number.
    messageSender.assertCanSend(sessionId)
    const reservation = await service.reserveSend(phone, { length: overrides.length, ttlSeconds, verificationId })
    const text = renderOtpMessage({
      template: options.template,
      code: reservation.code,
      ttlSeconds,
      appName: overrides.appName ?? options.appName
    })
    let messageId: string
    try {
      ({ messageId } = await messageSender.sendText(sessionId, phone, text, 'otp'))
    } catch (error) {
      // Nothing reached the phone: the code must not become valid. The send does not count
      // either, unless WhatsApp said the number is not on it: that answer is what a caller
      // probing numbers wants, so it costs the number's cooldown like a send.
      if ((error as FastifyError).code === 'PHONE_NOT_ON_WHATSAPP') await service.countWithoutCode(reservation)
      else await service.release(reservation)
      throw error
    }
    const expiresAt = new Date((await service.commit(reservation)).expiresAt)
    events.emit('sent', { sessionId, to: phone, messageId, expiresAt, at: new Date(clock()) })
    return {
      messageId,
      to: phone,
      expiresAt,
      resendAfter: new Date(reservation.resendAfter),
      ...(exposeCode ? { code: reservation.code } : {})
    }
  }

  async function verify (to: string, code: string): Promise<{ to: string, verificationId: string | null }> {
    const phone = normalizePhoneNumber(to).formatted
    let verified: { verificationId: string | null }
    try {
      verified = await service.verify(phone, code)
    } catch (error) {
      const { code: errorCode, attemptsLeft } = error as FastifyError & { attemptsLeft?: number }
      const reason = failureReasons[errorCode]
      if (reason !== undefined) {
        events.emit('failed', { to: phone, reason, attemptsLeft: reason === 'too_many_attempts' ? 0 : attemptsLeft ?? null, at: new Date(clock()) })
      }
      throw error
    }
    return { to: phone, verificationId: verified.verificationId }
  }

  return { events, sendCode, verify, voidCode: service.voidCode }
}

const secretFileName = 'otp-secret'

// Codes are kept as HMACs under this secret, so it must outlive a restart: a new secret would
// void every code already on its way to a phone.
export async function loadOrCreateOtpSecret (dataDirectory: string): Promise<string> {
  const path = join(dataDirectory, secretFileName)
  try {
    const secret = (await readFile(path, 'utf8')).trim()
    if (secret.length < 16) throw new Error(`${path} holds less than 16 characters; delete it to generate a new OTP secret`)
    return secret
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const secret = randomBytes(32).toString('hex')
  await mkdir(dataDirectory, { recursive: true, mode: 0o700 })
  await writeFileAtomic(path, secret)
  return secret
}

async function otpPlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const secret = config.otpSecret ?? await loadOrCreateOtpSecret(config.dataDirectory)
  fastify.decorate('otpSecret', secret)
  const service = createOtpService({
    store: createStateOtpStore(fastify.stateStore),
    secret,
    length: config.otpLength,
    ttlSeconds: config.otpTtlSeconds,
    maxAttempts: config.otpMaxAttempts,
    cooldownSeconds: config.otpCooldownSeconds,
    maxPerHour: config.otpMaxPerHour
  })
  fastify.decorate('otp', createOtp({
    service,
    messageSender: fastify.messageSender,
    ttlSeconds: config.otpTtlSeconds,
    template: config.otpTemplate,
    appName: config.otpAppName,
    exposeCode: config.otpExposeCode
  }))
}

export default fp(otpPlugin, { name: 'otp', fastify: '5.x', dependencies: ['message-sender', 'state-store'] })
