import { Type, type Static } from './typebox.js'
import { Nullable, SessionIdField, SuccessResponse } from './common.js'

const nullableTime = (description: string) => Nullable(Type.String({ format: 'date-time' }), { description })

export const MessageStatusParams = Type.Object({
  sessionId: SessionIdField(),
  messageId: Type.String({ minLength: 1, maxLength: 128, description: 'The messageId answered when the message was sent' })
})
export type MessageStatusParams = Static<typeof MessageStatusParams>

export const MessageStatusResponse = SuccessResponse('MessageStatusResponse', 'The message\'s delivery status', Type.Object({
  messageId: Type.String(),
  sessionId: Type.String(),
  to: Type.String({ description: 'Recipient phone number, digits only' }),
  type: Type.Union([
    Type.Literal('text'), Type.Literal('image'), Type.Literal('video'), Type.Literal('audio'), Type.Literal('document'), Type.Literal('otp')
  ], { description: 'otp for an OTP message: an OTP\'s delivery status is its message\'s' }),
  status: Type.Union([Type.Literal('sent'), Type.Literal('delivered'), Type.Literal('read'), Type.Literal('failed')], {
    description: 'sent (WhatsApp accepted it) → delivered (reached the phone) → read; or failed. Only moves forward.'
  }),
  sentAt: Type.String({ format: 'date-time' }),
  deliveredAt: nullableTime('When it reached the phone; set with readAt when WhatsApp reports only the read'),
  readAt: nullableTime('When the recipient read it (or played a voice note or video)'),
  failedAt: nullableTime('When WhatsApp reported it failed')
}))
export type MessageStatusResponse = Static<typeof MessageStatusResponse>

// Long OpenAPI descriptions of the routes, kept here so the route handlers stay short.
export const getMessageStatusDescription = 'sent, delivered, read or failed, with the time of each step, for a message (text, media or OTP) this service sent. Kept for 24 hours after the last change, across restarts; 404 after that.'
