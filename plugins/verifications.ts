import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify'
import type { verificationStatuses } from '../schemas/otp.js'
import { errors } from '../src/errors.js'
import { generateOtpCode, hashOtpCode, otpCodeMatches } from '../src/otp-code.js'
import { normalizePhoneNumber } from '../src/phone-number.js'
import type { RecordCollection } from '../src/state/state-store.js'
import type { OtpSendOverrides } from '../src/otp-service.js'
import type { Otp, OtpSent } from './otp.js'
import type { MessageSender } from './message-sender.js'
import type { MessageStatusChange, SessionEventMap, VerificationEventMap } from '../src/events.js'
import type { InstanceRouter } from './instance-router.js'

// Every OTP is a verification with an id the app can follow: an outbound code the service sent,
// or an inbound one the user sends to the service (user-first: WhatsApp never counts a chat the
// user started as the account reaching out, so it works while the account is restricted).

export type VerificationMethod = 'outbound' | 'inbound'
export type VerificationStatus = typeof verificationStatuses[number]

export interface Verification {
  verificationId: string
  // The number the code is for; an inbound verification started without one takes any sender.
  to: string | null
  method: VerificationMethod
  status: VerificationStatus
  sessionId: string
  createdAt: string
  expiresAt: string
  approvedAt: string | null
  // The number that proved itself: `to`, or for an inbound code without `to` whoever sent it.
  phone: string | null
}

interface StoredVerification extends Verification {
  // Inbound codes: HMAC of the code, so a stolen store cannot be replayed from another number.
  codeHash?: string
  messageId?: string
}

// Index records next to the verifications: the latest outbound verification of a number, and
// the pending inbound one a session's code points to.
interface VerificationIndex { verificationId: string }

export interface InboundVerification extends Verification {
  code: string
  text: string
  waLink: string
}

// What an OTP answer carries: the send, and the verification that follows its code.
export type SentVerification = OtpSent & { verificationId: string, sessionId: string }

export interface InboundOverrides {
  ttlSeconds?: number
  appName?: string
}

export interface VerificationsOptions {
  records: RecordCollection<StoredVerification | VerificationIndex>
  otp: Pick<Otp, 'sendCode' | 'verify' | 'voidCode'>
  // The session here, or as its holder wrote it to the store (a sender the pool picked elsewhere
  // in the cluster; a call naming its session is forwarded to the holder before it gets here).
  instanceRouter: Pick<InstanceRouter, 'session'>
  messageSender: Pick<MessageSender, 'sendText'>
  secret: string
  codeLength: number
  ttlSeconds: number
  // Sent back to the user in the chat once an inbound code approved them; none when undefined.
  inboundReply?: string
  logger: FastifyBaseLogger
  // How long a finished verification can still be read.
  retentionMs?: number
  clock?: () => number
}

export interface Verifications {
  events: EventEmitter<VerificationEventMap>
  // Sends an OTP through that session and records its verification.
  sendOtp: (sessionId: string, to: string, overrides?: OtpSendOverrides) => Promise<SentVerification>
  // The code the user typed, checked against the number's latest outbound verification.
  verifyCode: (to: string, code: string) => Promise<{ to: string, verificationId: string | null }>
  startInbound: (sessionId: string, to: string | undefined, overrides?: InboundOverrides) => Promise<InboundVerification>
  get: (verificationId: string) => Promise<Verification>
  cancel: (verificationId: string) => Promise<Verification>
  // WhatsApp took the OTP's message but later reported it failed: the code cannot arrive.
  messageFailed: (messageId: string) => Promise<void>
  // What the session registry and the status tracker report, as plugins/event-wiring.ts passes it on.
  handleInbound: (message: SessionEventMap['message-received'][0]) => void
  handleStatusChange: (change: MessageStatusChange) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    verifications: Verifications
  }
}

const latestKey = (phone: string): string => `latest-${phone}`
const inboundKey = (sessionId: string, code: string): string => `inbound-${sessionId}-${code}`
const messageKey = (messageId: string): string => `message-${messageId}`
const verificationIdPattern = /^[0-9a-f-]{36}$/

// What a failed try at an outbound code makes of its verification; other failures leave it pending.
const finishedByFailure: Partial<Record<string, VerificationStatus>> = { OTP_TOO_MANY_ATTEMPTS: 'max_attempts', OTP_EXPIRED: 'expired' }

export function inboundText (code: string, appName: string | undefined): string {
  return appName === undefined ? `Kode verifikasi saya: ${code}` : `Kode verifikasi ${appName} saya: ${code}`
}

export function waLink (senderPhone: string, text: string): string {
  return `https://wa.me/${senderPhone}?text=${encodeURIComponent(text)}`
}

function publicView (stored: StoredVerification, now: number): Verification {
  const { verificationId, to, method, sessionId, createdAt, expiresAt, approvedAt, phone } = stored
  const status = stored.status === 'pending' && Date.parse(expiresAt) <= now ? 'expired' : stored.status
  return { verificationId, to, method, status, sessionId, createdAt, expiresAt, approvedAt, phone }
}

export function createVerifications (options: VerificationsOptions): Verifications {
  const { records, otp, instanceRouter, messageSender, secret, logger } = options
  const clock = options.clock ?? Date.now
  const retentionMs = options.retentionMs ?? 24 * 60 * 60 * 1000
  const events = new EventEmitter<VerificationEventMap>()
  const verifications = records as RecordCollection<StoredVerification>
  const indexes = records as RecordCollection<VerificationIndex>

  async function read (verificationId: string): Promise<StoredVerification> {
    const stored = verificationIdPattern.test(verificationId) ? await verifications.get(verificationId) : undefined
    if (stored === undefined || stored.verificationId !== verificationId) throw new errors.VERIFICATION_NOT_FOUND(verificationId)
    return stored
  }

  // Only a pending one changes; its record lives on for reading after it ended.
  async function finish (
    verificationId: string,
    status: VerificationStatus,
    extra: Partial<StoredVerification> = {}
  ): Promise<StoredVerification | undefined> {
    return await verifications.update(verificationId, (current) => {
      if (current === undefined || current.status !== 'pending') return { value: current, result: undefined, expiresAt: current === undefined ? undefined : Date.parse(current.expiresAt) + retentionMs }
      const value = { ...current, status, ...extra }
      return { value, result: value, expiresAt: Date.parse(current.expiresAt) + retentionMs }
    })
  }

  async function create (stored: StoredVerification): Promise<void> {
    const expiresAt = Date.parse(stored.expiresAt) + retentionMs
    await verifications.update(stored.verificationId, () => ({ value: stored, result: undefined, expiresAt }))
  }

  async function sendOtp (sessionId: string, to: string, overrides: OtpSendOverrides = {}): Promise<SentVerification> {
    // Drawn before the send: the code is stored with it, so canceling this verification voids
    // this code and no other.
    const verificationId = randomUUID()
    const sent = await otp.sendCode(sessionId, to, overrides, verificationId)
    const now = new Date(clock())
    await create({
      verificationId,
      to: sent.to,
      method: 'outbound',
      status: 'pending',
      sessionId,
      createdAt: now.toISOString(),
      expiresAt: sent.expiresAt.toISOString(),
      approvedAt: null,
      phone: null,
      messageId: sent.messageId
    })
    // The new code replaced the number's earlier one: that verification can no longer succeed.
    const keptUntil = sent.expiresAt.getTime() + retentionMs
    const previous = await indexes.update(latestKey(sent.to), (current) => ({
      value: { verificationId },
      result: current?.verificationId,
      expiresAt: keptUntil
    }))
    if (previous !== undefined) await finish(previous, 'canceled')
    const codeExpiresAt = sent.expiresAt.getTime()
    await indexes.update(messageKey(sent.messageId), () => ({ value: { verificationId }, result: undefined, expiresAt: codeExpiresAt }))
    return { ...sent, verificationId, sessionId }
  }

  // The code alone answers a wrong code and a number without one (cancel voids its verification's
  // code): one store call, the busiest paths under abuse. The number's latest verification is read
  // only when a failure finishes it.
  async function verifyCode (to: string, code: string): Promise<{ to: string, verificationId: string | null }> {
    const phone = normalizePhoneNumber(to).formatted
    const latestVerificationId = async (): Promise<string | null> => (await indexes.get(latestKey(phone)))?.verificationId ?? null
    let verified: { verificationId: string | null }
    try {
      verified = await otp.verify(phone, code)
    } catch (error) {
      const status = finishedByFailure[(error as FastifyError).code]
      if (status !== undefined) {
        const verificationId = await latestVerificationId()
        if (verificationId !== null) await finish(verificationId, status)
      }
      throw error
    }
    // The right code approves the verification it was sent for. The number's latest one, in the
    // index, is written after the code was committed and delivered: a code typed in between would
    // approve the verification before it, and leave its own pending. Only a code committed before
    // codes kept their verification goes by the index.
    const verificationId = verified.verificationId ?? await latestVerificationId()
    const at = new Date(clock())
    const approved = verificationId === null ? undefined : await finish(verificationId, 'approved', { approvedAt: at.toISOString(), phone })
    // A canceled verification whose code is still in the OTP record: canceled before cancel voided
    // codes (by an earlier version, or one still running during a rolling deploy), or verified
    // between a cancel's status change and its voidCode. Its right code is refused here, where the
    // verification is read anyway, and is spent, as its cancel asked. Until such an old code
    // expires, a wrong try at it costs an attempt and answers OTP_INVALID (then
    // OTP_TOO_MANY_ATTEMPTS, or OTP_EXPIRED) instead of OTP_NOT_FOUND: accepted, since it can
    // never verify either way, and checking would put back the reads this path saves.
    if (approved === undefined && verificationId !== null && (await verifications.get(verificationId))?.status === 'canceled') {
      throw new errors.OTP_NOT_FOUND()
    }
    events.emit('approved', { to: phone, verification: approved === undefined ? null : publicView(approved, at.getTime()), method: 'outbound', at })
    return { to: phone, verificationId }
  }

  async function senderPhone (sessionId: string): Promise<string> {
    const { user } = await instanceRouter.session(sessionId)
    if (user === null) throw new errors.SESSION_NOT_CONNECTED()
    return user.id.split('@')[0].split(':')[0]
  }

  async function startInbound (sessionId: string, to: string | undefined, overrides: InboundOverrides = {}): Promise<InboundVerification> {
    const phone = to === undefined ? null : normalizePhoneNumber(to).formatted
    const sender = await senderPhone(sessionId)
    const now = clock()
    const expiresAt = now + (overrides.ttlSeconds ?? options.ttlSeconds) * 1000
    const verificationId = randomUUID()
    // A code names one pending verification per session: drawn again while it is taken.
    let code = ''
    for (let attempt = 0; code === ''; attempt++) {
      if (attempt === 20) throw new errors.INTERNAL_ERROR()
      const candidate = generateOtpCode(options.codeLength)
      const taken = await indexes.update(inboundKey(sessionId, candidate), (current) => current === undefined
        ? { value: { verificationId }, result: false, expiresAt }
        : { value: current, result: true, expiresAt })
      if (!taken) code = candidate
    }
    const stored: StoredVerification = {
      verificationId,
      to: phone,
      method: 'inbound',
      status: 'pending',
      sessionId,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(expiresAt).toISOString(),
      approvedAt: null,
      phone: null,
      codeHash: hashOtpCode(secret, verificationId, code)
    }
    await create(stored)
    const text = inboundText(code, overrides.appName)
    return { ...publicView(stored, now), code, text, waLink: waLink(sender, text) }
  }

  // A message that holds a pending code of this session approves its verification, if it came
  // from the number the verification names (or names none).
  async function onMessage ({ sessionId, phone, text }: SessionEventMap['message-received'][0]): Promise<void> {
    if (text === null) return
    for (const [candidate] of text.matchAll(/\d{4,10}/g)) {
      const index = await indexes.get(inboundKey(sessionId, candidate))
      if (index === undefined) continue
      const stored = await verifications.get(index.verificationId)
      if (stored?.codeHash === undefined || !otpCodeMatches(secret, stored.verificationId, candidate, stored.codeHash)) continue
      if (stored.to !== null && stored.to !== phone) {
        logger.info({ sessionId, verificationId: stored.verificationId, resolved: phone !== null }, 'inbound code from another number (or an unresolved LID sender) ignored')
        continue
      }
      const at = new Date(clock())
      if (Date.parse(stored.expiresAt) <= at.getTime()) continue
      const approved = await finish(stored.verificationId, 'approved', { approvedAt: at.toISOString(), phone })
      if (approved === undefined) continue
      await indexes.delete(inboundKey(sessionId, candidate))
      events.emit('approved', { to: phone, verification: publicView(approved, at.getTime()), method: 'inbound', at })
      if (options.inboundReply !== undefined && phone !== null) {
        messageSender.sendText(sessionId, phone, options.inboundReply).catch((error: unknown) => logger.warn({ err: error, sessionId }, 'confirming an inbound verification failed'))
      }
      return
    }
  }

  async function messageFailed (messageId: string): Promise<void> {
    const index = await indexes.get(messageKey(messageId))
    if (index !== undefined) await finish(index.verificationId, 'failed')
  }

  return {
    events,
    sendOtp,
    verifyCode,
    startInbound,
    get: async (verificationId) => publicView(await read(verificationId), clock()),
    async cancel (verificationId) {
      await read(verificationId)
      await finish(verificationId, 'canceled')
      const stored = await read(verificationId)
      // Its code stops verifying: voided in the number's OTP record (only if it is still this
      // verification's code, see voidCode), so that verify need not read the verification. Also
      // when it was canceled already: a repeated cancel finishes one whose voidCode failed.
      if (stored.status === 'canceled' && stored.method === 'outbound' && stored.to !== null) await otp.voidCode(stored.to, verificationId)
      return publicView(stored, clock())
    },
    messageFailed,
    handleInbound (message) {
      onMessage(message).catch((error: unknown) => logger.error({ err: error }, 'checking a message for an inbound code failed'))
    },
    handleStatusChange ({ message }) {
      if (message.type !== 'otp' || message.status !== 'failed') return
      messageFailed(message.messageId).catch((error: unknown) => logger.error({ err: error }, 'marking a verification failed did not work'))
    }
  }
}

async function verificationsPlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const log = fastify.log.child({ component: 'verifications' })
  const verifications = createVerifications({
    records: fastify.stateStore.records('verification'),
    otp: fastify.otp,
    instanceRouter: fastify.instanceRouter,
    messageSender: fastify.messageSender,
    secret: fastify.otpSecret,
    codeLength: config.otpLength,
    ttlSeconds: config.otpTtlSeconds,
    ...(config.otpInboundReply === undefined ? {} : { inboundReply: config.otpInboundReply }),
    logger: log
  })
  fastify.decorate('verifications', verifications)
}

export default fp(verificationsPlugin, { name: 'verifications', fastify: '5.x', dependencies: ['state-store', 'otp', 'instance-router', 'message-sender'] })
