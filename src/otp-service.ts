import { randomUUID } from 'node:crypto'
import { errors, withAttemptsLeft, withRetryAfter } from './errors.js'
import { generateOtpCode, hashOtpCode, otpCodeMatches } from './otp-code.js'
import type { OtpRecord, OtpStore } from './otp-store.js'

// The OTP rules (cooldown, hourly cap, attempts, expiry) over any OtpStore: reserve a send,
// commit or release it once WhatsApp answered, verify a typed code.

export interface OtpServiceOptions {
  store: OtpStore
  secret: string | Uint8Array
  clock?: () => number
  length: number
  ttlSeconds: number
  maxAttempts: number
  cooldownSeconds: number
  maxPerHour: number
}

export interface OtpReservation {
  id: string
  phone: string
  // The code to put in the message; it exists only here and in the message, never in the store.
  code: string
  // The code is valid this long from its commit, that is from when WhatsApp accepted the
  // message, not from the reservation: the wait for a send turn must not shorten it.
  ttlSeconds: number
  resendAfter: number
  // From reserveSend's options; commit stores it with the code.
  verificationId?: string
}

// What one send may set differently from the configuration (the OTP request's body).
export interface OtpSendOverrides {
  length?: number
  ttlSeconds?: number
  // Only the message uses it; the service ignores it.
  appName?: string
}

export interface OtpReserveOptions extends Pick<OtpSendOverrides, 'length' | 'ttlSeconds'> {
  // The verification the code is for: kept with the code for voidCode.
  verificationId?: string
}

export interface OtpService {
  reserveSend(phone: string, options?: OtpReserveOptions): Promise<OtpReservation>
  // Returns when the committed code expires.
  commit(reservation: OtpReservation): Promise<{ expiresAt: number }>
  release(reservation: OtpReservation): Promise<void>
  countWithoutCode(reservation: OtpReservation): Promise<void>
  // Resolves with the verification the code was sent for: null for a code committed before
  // codes kept it, or sent without one.
  verify(phone: string, code: string): Promise<{ verificationId: string | null }>
  // Voids the number's code if it is still the one sent for that verification; true when it was.
  voidCode(phone: string, verificationId: string): Promise<boolean>
}

const hourMilliseconds = 60 * 60 * 1000

type ReserveOutcome =
  | { kind: 'reserved', resendAfter: number }
  | { kind: 'cooldown', secondsLeft: number }
  | { kind: 'hourly-limit', secondsLeft: number }

type VerifyOutcome =
  | { kind: 'ok', verificationId: string | null }
  | { kind: 'not-found' }
  | { kind: 'expired' }
  | { kind: 'too-many-attempts' }
  | { kind: 'invalid', attemptsLeft: number }

export function createOtpService (options: OtpServiceOptions): OtpService {
  const { store, secret, length, ttlSeconds, maxAttempts, cooldownSeconds, maxPerHour } = options
  const clock = options.clock ?? Date.now
  requireInteger('ttlSeconds', ttlSeconds, 1)
  requireInteger('maxAttempts', maxAttempts, 1)
  requireInteger('cooldownSeconds', cooldownSeconds, 0)
  requireInteger('maxPerHour', maxPerHour, 1)
  const cooldownMilliseconds = cooldownSeconds * 1000

  // A send matters while it is in the hourly window or holds the cooldown (which may be longer).
  const sendRememberedMilliseconds = Math.max(hourMilliseconds, cooldownMilliseconds)

  // Forgets sends that no longer matter; a record with nothing left is deleted.
  function tidy (record: OtpRecord | undefined, now: number): OtpRecord | undefined {
    if (record === undefined) return undefined
    const sends = record.sends.filter(send => send.at + sendRememberedMilliseconds > now)
    const code = record.code
    const newestSendAt = Math.max(0, ...sends.map(send => send.at))
    // An expired code is kept for an hour so verify can say "expired" rather than "no code".
    const deleteAfter = Math.max(
      code === undefined ? 0 : code.expiresAt + hourMilliseconds,
      sends.length > 0 ? newestSendAt + sendRememberedMilliseconds : 0
    )
    if (deleteAfter <= now) return undefined
    return { code, sends, deleteAfter }
  }

  async function reserveSend (phone: string, options: OtpReserveOptions = {}): Promise<OtpReservation> {
    const ttl = options.ttlSeconds ?? ttlSeconds
    requireInteger('ttlSeconds', ttl, 1)
    // Drawn before touching the store: a bad length must fail without reserving anything.
    const code = generateOtpCode(options.length ?? length)
    const now = clock()
    const reservationId = randomUUID()

    const outcome = await store.update<ReserveOutcome>(phone, stored => {
      const record = tidy(stored, now) ?? { sends: [], deleteAfter: now }
      const sendTimes = record.sends.map(send => send.at)
      const sendTimesThisHour = sendTimes.filter(at => at + hourMilliseconds > now)
      const cooldownEndsAt = Math.max(0, ...sendTimes) + cooldownMilliseconds
      if (sendTimesThisHour.length >= maxPerHour) {
        // The window frees a slot when its oldest send turns an hour old.
        const waitMilliseconds = Math.max(Math.min(...sendTimesThisHour) + hourMilliseconds, cooldownEndsAt) - now
        return { record: stored, result: { kind: 'hourly-limit', secondsLeft: Math.ceil(waitMilliseconds / 1000) } }
      }
      if (cooldownEndsAt > now) {
        return { record: stored, result: { kind: 'cooldown', secondsLeft: Math.ceil((cooldownEndsAt - now) / 1000) } }
      }
      // The send is counted now, not at commit, so two requests racing for the same number
      // cannot both pass the cooldown.
      record.sends.push({ reservationId, at: now, state: 'reserved' })
      // When this send fills the hour, the next one has to wait for the window, not just the cooldown.
      const resendAfter = sendTimesThisHour.length + 1 >= maxPerHour
        ? Math.max(now + cooldownMilliseconds, Math.min(...sendTimesThisHour, now) + hourMilliseconds)
        : now + cooldownMilliseconds
      return { record: tidy(record, now), result: { kind: 'reserved', resendAfter } }
    })

    if (outcome.kind === 'hourly-limit') {
      throw withRetryAfter(new errors.OTP_HOURLY_LIMIT(outcome.secondsLeft), outcome.secondsLeft)
    }
    if (outcome.kind === 'cooldown') {
      throw withRetryAfter(new errors.OTP_COOLDOWN(outcome.secondsLeft), outcome.secondsLeft)
    }
    return { id: reservationId, phone, code, ttlSeconds: ttl, resendAfter: outcome.resendAfter, verificationId: options.verificationId }
  }

  // Settles a reserved send exactly once, by commit or by release; `apply` changes the record.
  async function settle (reservation: OtpReservation, apply: (record: OtpRecord, send: OtpRecord['sends'][number], now: number) => void): Promise<void> {
    const now = clock()
    const settled = await store.update(reservation.phone, stored => {
      const record = tidy(stored, now)
      const send = record?.sends.find(candidate => candidate.reservationId === reservation.id)
      if (record === undefined || send === undefined || send.state !== 'reserved') {
        return { record: stored, result: false }
      }
      apply(record, send, now)
      return { record: tidy(record, now), result: true }
    })
    if (!settled) throw new Error(`OTP reservation ${reservation.id} is not pending (released or committed already)`)
  }

  // Called once WhatsApp accepted the message: the new code replaces whatever code was valid.
  async function commit (reservation: OtpReservation): Promise<{ expiresAt: number }> {
    const hash = hashOtpCode(secret, reservation.phone, reservation.code)
    let expiresAt = 0
    await settle(reservation, (record, send, now) => {
      send.state = 'committed'
      expiresAt = now + reservation.ttlSeconds * 1000
      record.code = { hash, expiresAt, attemptsLeft: maxAttempts }
      if (reservation.verificationId !== undefined) record.code.verificationId = reservation.verificationId
    })
    return { expiresAt }
  }

  // Called when WhatsApp answered that the number is not on WhatsApp. No code becomes valid, but
  // the send still counts toward the cooldown and the hourly cap: otherwise the API would answer
  // "is this number on WhatsApp?" for any number as fast as it is asked.
  async function countWithoutCode (reservation: OtpReservation): Promise<void> {
    await settle(reservation, (_record, send) => {
      send.state = 'committed'
    })
  }

  // Called when the send failed. The reserved code never became valid, and the send no longer
  // counts toward the cooldown or the hourly cap: nothing reached the user, so making them wait
  // would only punish a failure that was not theirs (an unregistered number, a dropped session).
  // A code committed earlier stays valid: it was delivered and may still be on its way to being typed.
  async function release (reservation: OtpReservation): Promise<void> {
    await settle(reservation, (record, send) => {
      record.sends = record.sends.filter(candidate => candidate !== send)
    })
  }

  async function verify (phone: string, code: string): Promise<{ verificationId: string | null }> {
    const now = clock()
    const outcome = await store.update<VerifyOutcome>(phone, stored => {
      const record = tidy(stored, now)
      const current = record?.code
      if (record === undefined || current === undefined) return { record, result: { kind: 'not-found' } }
      // A voided code stays in the record so later tries keep hearing why, until a new code replaces it.
      if (current.attemptsLeft <= 0) return { record, result: { kind: 'too-many-attempts' } }
      if (current.expiresAt <= now) return { record, result: { kind: 'expired' } }
      if (otpCodeMatches(secret, phone, code, current.hash)) {
        delete record.code
        return { record: tidy(record, now), result: { kind: 'ok', verificationId: current.verificationId ?? null } }
      }
      current.attemptsLeft -= 1
      const result: VerifyOutcome = current.attemptsLeft === 0
        ? { kind: 'too-many-attempts' }
        : { kind: 'invalid', attemptsLeft: current.attemptsLeft }
      return { record, result }
    })

    switch (outcome.kind) {
      case 'ok': return { verificationId: outcome.verificationId }
      case 'not-found': throw new errors.OTP_NOT_FOUND()
      case 'expired': throw new errors.OTP_EXPIRED()
      case 'too-many-attempts': throw new errors.OTP_TOO_MANY_ATTEMPTS()
      case 'invalid': throw withAttemptsLeft(new errors.OTP_INVALID(outcome.attemptsLeft), outcome.attemptsLeft)
    }
  }

  // Why the code carries its verification id: the code (here) and the number's latest verification
  // (the caller's index) are separate keys, and a cancel of an older verification can meet a new
  // send in between them: the index may still name the old verification while this record already
  // holds the new code. Comparing within this one atomic update voids the canceled verification's
  // code and never a newer one, whatever the order of the two. A voided code is gone, as if spent:
  // verify answers "no code"; the sends still count toward the cooldown and the hourly cap.
  async function voidCode (phone: string, verificationId: string): Promise<boolean> {
    const now = clock()
    return await store.update(phone, stored => {
      const record = tidy(stored, now)
      if (record?.code === undefined || record.code.verificationId !== verificationId) return { record: stored, result: false }
      delete record.code
      return { record: tidy(record, now), result: true }
    })
  }

  return { reserveSend, commit, release, countWithoutCode, verify, voidCode }
}

function requireInteger (name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`${name} must be an integer of at least ${minimum}, got ${value}`)
  }
}
