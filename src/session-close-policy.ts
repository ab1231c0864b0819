import type { ConnectionClose } from './whatsapp-connection.js'
import type { CloseKind } from './events.js'
import type { SessionStatus } from './session-status.js'

// What the registry does when WhatsApp closes a session's socket, decided from the close alone.

// Exponential backoff with "equal jitter": never less than half the step, so a flapping network
// cannot turn into a reconnect storm, and never in lockstep across sessions.
export function reconnectDelay (attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** (attempt - 1))
  return Math.round(step / 2 + random() * (step / 2))
}

export type CloseAction =
  // Open a new socket with the same credentials at once.
  | 'reconnect-now'
  // Open a new socket after a backoff.
  | 'reconnect-later'
  // The phone unlinked the device: remove the session and its credentials.
  | 'forget'
  // Nothing more happens on its own; a session that never linked is dropped later.
  | 'stop'

export interface CloseDecision {
  action: CloseAction
  // Unset for reconnect-later, whose status names the attempt and its delay.
  status?: SessionStatus
  reason: string
}

export function willReconnect (kind: CloseKind, reconnectAttempts: number, reconnectMaxAttempts: number): boolean {
  return kind === 'restart-required' || (kind === 'connection-lost' && reconnectAttempts < reconnectMaxAttempts)
}

export function decideClose (close: ConnectionClose, reconnectAttempts: number, reconnectMaxAttempts: number): CloseDecision {
  switch (close.kind) {
    case 'restart-required':
      // Normal right after a scan: the same credentials log in on a new socket, no new scan.
      return { action: 'reconnect-now', status: 'connecting', reason: 'WhatsApp asked for a restart (515)' }
    case 'logged-out':
      return { action: 'forget', status: 'logged_out', reason: 'the phone removed this device (401)' }
    case 'replaced':
      return { action: 'stop', status: 'replaced', reason: 'another client took over this session (440)' }
    case 'qr-timeout':
      return { action: 'stop', status: 'qr_timeout', reason: 'nobody scanned the QR code in time' }
    case 'forbidden':
    case 'multidevice-mismatch':
      return { action: 'stop', status: 'failed', reason: `${close.message} (${close.statusCode ?? 'no status'})` }
    case 'connection-lost':
      if (!willReconnect(close.kind, reconnectAttempts, reconnectMaxAttempts)) {
        return { action: 'stop', status: 'failed', reason: `gave up after ${reconnectAttempts} reconnect attempts: ${close.message}` }
      }
      return { action: 'reconnect-later', reason: `${close.message} (${close.statusCode ?? 'no status'})` }
  }
}
