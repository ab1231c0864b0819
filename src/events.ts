import type { SessionStatus } from './session-status.js'
import type { SessionRestriction } from './session.js'
import type { Verification, VerificationMethod } from '../plugins/verifications.js'
import type { WebhookResult } from './webhook-dispatcher.js'

// Every event map of the service, in one module: what each producer emits and what it carries.
// Who listens to what is listed in one place too, plugins/event-wiring.ts; the table of both is
// in docs/architecture.md.

// --- Session registry (plugins/session-registry.ts) ---

// Why WhatsApp closed a connection, as the transport classifies it (plugins/transport.ts).
export type CloseKind =
  | 'restart-required'
  | 'logged-out'
  | 'replaced'
  | 'qr-timeout'
  | 'forbidden'
  | 'multidevice-mismatch'
  | 'connection-lost'

// A sent message's acknowledgement from WhatsApp, as the transport reports it.
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'played' | 'failed'

// What WhatsApp says about the account's right to start new chats: its reach-out timelock
// (pushed, or answered to a query) and its new-chat message cap (CAPPED blocks like a timelock).
export interface RestrictionUpdate {
  source: 'timelock' | 'cap'
  active: boolean
  until: Date | null
  reason: string
}

export interface SessionEventMap {
  state: [{ sessionId: string, status: SessionStatus, previous: SessionStatus, reason: string }]
  qr: [{ sessionId: string, qr: string }]
  connected: [{ sessionId: string, user: { id: string, name: string | null } }]
  disconnected: [{ sessionId: string, kind: CloseKind, statusCode: number | null, message: string, willReconnect: boolean }]
  logged_out: [{ sessionId: string }]
  replaced: [{ sessionId: string }]
  removed: [{ sessionId: string }]
  // With REDIS_URL: the session runs on another instance from now on (its lease was lost, or it
  // was handed over for fair share). Gone from this instance only: its credentials, metadata and
  // chats stay in the shared store for the new holder.
  left: [{ sessionId: string }]
  'message-status': [{ sessionId: string, messageId: string, remoteJid: string, status: MessageStatus }]
  // `phone`: the sender's number (digits), also when WhatsApp addressed it by LID; null when unknown.
  'message-received': [{ sessionId: string, messageId: string, from: string, phone: string | null, pushName: string | null, text: string | null, timestamp: number }]
  restriction: [{ sessionId: string } & RestrictionUpdate]
}

// --- Message sender (plugins/message-sender.ts) ---

export type SentMessageType = 'text' | 'image' | 'video' | 'audio' | 'document' | 'otp'

export interface MessageSenderEventMap {
  // WhatsApp accepted the message (the stanza was written); delivery and read come later as
  // session 'message-status' events with the same messageId.
  sent: [{ sessionId: string, messageId: string, to: string, jid: string, type: SentMessageType, at: Date }]
  failed: [{ sessionId: string, to: string, type: SentMessageType, errorCode: string, message: string, at: Date }]
}

// --- OTP (plugins/otp.ts) ---

export type OtpFailureReason = 'invalid' | 'expired' | 'too_many_attempts' | 'not_found'

export interface OtpEventMap {
  sent: [{ sessionId: string, to: string, messageId: string, expiresAt: Date, at: Date }]
  failed: [{ to: string, reason: OtpFailureReason, attemptsLeft: number | null, at: Date }]
}

// --- Message status tracker (plugins/message-status.ts) ---

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed'

export interface TrackedMessage {
  messageId: string
  sessionId: string
  to: string
  type: SentMessageType
  status: DeliveryStatus
  sentAt: string
  deliveredAt: string | null
  readAt: string | null
  failedAt: string | null
}

export interface MessageStatusChange {
  message: TrackedMessage
  // When the status in message.status changed; for 'sent' the same as sentAt.
  at: string
}

export interface MessageStatusEventMap {
  change: [MessageStatusChange]
}

// --- Webhooks (plugins/webhooks.ts) ---

export interface WebhookEventMap {
  result: [WebhookResult]
}

// --- Restrictions on new chats (plugins/restrictions.ts) ---

export interface RestrictionEventMap {
  restricted: [{ sessionId: string } & SessionRestriction]
  lifted: [{ sessionId: string }]
}

// --- Verifications (plugins/verifications.ts) ---

export interface VerificationEventMap {
  // Once per code that verified (outbound through POST /api/otp/verify, inbound by a message).
  // `to` is the number that proved itself (null: an inbound code without `to` from a LID sender
  // that could not be resolved). `verification` is null for an outbound code with no verification
  // record (one sent before verifications were kept): the code still verified, so it still fires.
  approved: [{ to: string | null, verification: Verification | null, method: VerificationMethod, at: Date }]
}
