// Events the sending side of the service reports, for webhooks, message tracking and metrics.
// Producers: the message-sender and otp plugins. Consumers: webhooks, message-status, metrics.

export type SentMessageType = 'text' | 'image' | 'video' | 'audio' | 'document' | 'otp'

export interface MessageSenderEventMap {
  // WhatsApp accepted the message (the stanza was written); delivery and read come later as
  // session 'message-status' events with the same messageId.
  sent: [{ sessionId: string, messageId: string, to: string, jid: string, type: SentMessageType, at: Date }]
  failed: [{ sessionId: string, to: string, type: SentMessageType, errorCode: string, message: string, at: Date }]
}

export type OtpFailureReason = 'invalid' | 'expired' | 'too_many_attempts' | 'not_found'

export interface OtpEventMap {
  sent: [{ sessionId: string, to: string, messageId: string, expiresAt: Date, at: Date }]
  verified: [{ to: string, at: Date }]
  failed: [{ to: string, reason: OtpFailureReason, attemptsLeft: number | null, at: Date }]
}
