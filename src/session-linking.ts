import { once, type EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { errors, withRetryAfter } from './errors.js'
import type { SessionEventMap } from './events.js'
import type { Session } from './session.js'

// Linking a device: waiting for WhatsApp's QR, and asking for a pairing code instead.

// Retry-After for a QR WhatsApp has not offered yet.
const qrRetryAfterSeconds = 5

function qrNotAvailable (sessionId: string): Error {
  return withRetryAfter(new errors.QR_NOT_AVAILABLE(sessionId), qrRetryAfterSeconds)
}

export async function waitForQr (events: EventEmitter<SessionEventMap>, session: Session, qrWaitMs: number): Promise<string> {
  if (session.status === 'qr' && session.qr !== null) return session.qr
  const signal = AbortSignal.timeout(qrWaitMs)
  try {
    while (true) {
      const [event] = await once(events, 'qr', { signal }) as SessionEventMap['qr']
      if (event.sessionId === session.id) return event.qr
    }
  } catch {
    throw qrNotAvailable(session.id)
  }
}

// WhatsApp accepts a pairing-code request once the socket is ready to register, which is when
// it offers the first QR.
export async function requestPairingCode (
  events: EventEmitter<SessionEventMap>,
  session: Session,
  phoneNumber: string,
  qrWaitMs: number,
  logger: Logger
): Promise<string> {
  await waitForQr(events, session, qrWaitMs)
  const connection = session.connection
  if (connection === null) throw qrNotAvailable(session.id)
  try {
    session.pairingCode = await connection.requestPairingCode(phoneNumber)
  } catch (error) {
    throw withRetryAfter(new errors.PAIRING_CODE_FAILED((error as Error).message), qrRetryAfterSeconds)
  }
  logger.info({ sessionId: session.id }, 'pairing code requested')
  return session.pairingCode
}
