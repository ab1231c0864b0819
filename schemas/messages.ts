import { Type, type Static } from './typebox.js'
import { fieldErrors, named, PhoneNumberField, SuccessResponse } from './common.js'

export const FormatPhoneParams = Type.Object({
  phone: Type.String({ description: 'The number to check, as a user would type it', examples: ['08123456789'] })
})
export type FormatPhoneParams = Static<typeof FormatPhoneParams>

export const FormatPhoneResponse = SuccessResponse('FormatPhoneResponse', 'The number as messages are sent to it', Type.Object({
  original: Type.String({ description: 'The number as given' }),
  formatted: Type.String({ description: 'Digits with the country code, as messages are sent to it', examples: ['628123456789'] }),
  jid: Type.String({ description: 'The WhatsApp address of the number', examples: ['628123456789@s.whatsapp.net'] }),
  valid: Type.Boolean({ description: 'Whether the number fits its country\'s numbering plan (informative: sends check WhatsApp itself)' })
}))
export type FormatPhoneResponse = Static<typeof FormatPhoneResponse>

export const SendTextBody = Type.Object({
  to: PhoneNumberField,
  // \S: a message of only spaces or line breaks would reach the phone as an empty-looking bubble.
  message: Type.String({
    minLength: 1,
    maxLength: 65_536,
    pattern: '\\S',
    description: 'The text to send: 1-65536 characters, not only spaces',
    examples: ['Test message'],
    ...fieldErrors({ invalid: 'MESSAGE_TEXT_INVALID' })
  })
}, named('SendTextBody'))
export type SendTextBody = Static<typeof SendTextBody>

const SentMessage = {
  messageId: Type.String({ description: 'WhatsApp message id; delivery and read receipts report it' }),
  to: Type.String({ description: 'The number sent to, with its country code' }),
  jid: Type.String({ description: 'The WhatsApp address sent to' })
}

export const SendTextResponse = SuccessResponse('SendTextResponse', 'WhatsApp accepted the message', Type.Object(SentMessage))
export type SendTextResponse = Static<typeof SendTextResponse>

export const SendMediaBody = Type.Object({
  to: PhoneNumberField,
  caption: Type.Optional(Type.String({ maxLength: 1024, description: 'Shown under an image, video or document; audio has none' })),
  // The multipart file part. Its bytes are read while parsing (see src/routes/messages.ts); in the
  // validated body the field holds the file's name, so it is a string here and in generated clients.
  file: Type.String({
    format: 'binary',
    description: 'The file. Its type is read from its bytes; JPEG, PNG, GIF, WebP, MP4, AVI, MOV, WMV, 3GP, MP3, WAV, OGG, M4A, MPEG, PDF, DOC, DOCX, XLS, XLSX, TXT and CSV are accepted',
    ...fieldErrors({ missing: 'FILE_REQUIRED' })
  })
}, named('SendMediaBody'))
export type SendMediaBody = Static<typeof SendMediaBody>

export const SendMediaResponse = SuccessResponse('SendMediaResponse', 'WhatsApp accepted the file', Type.Object({
  ...SentMessage,
  kind: Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio'), Type.Literal('document')], {
    description: 'How WhatsApp shows it; AVI and WMV go as documents because WhatsApp cannot play them inline'
  }),
  mimetype: Type.String({ description: 'The type read from the file\'s bytes' }),
  fileName: Type.String({ description: 'The name the recipient sees for a document' }),
  size: Type.Integer({ description: 'Bytes sent' })
}))
export type SendMediaResponse = Static<typeof SendMediaResponse>

// Long OpenAPI descriptions of the routes, kept here so the route handlers stay short.
export const formatPhoneDescription = 'Shows how a number will be sent to: 08123456789 and 8123456789 become 628123456789, a number with its country code stays. +62… and numbers with dashes or spaces are refused with a 400 that shows the right format. `valid` is the numbering plan\'s opinion; sends check WhatsApp itself.'
export const sendTextDescription = 'Checks that the number is on WhatsApp (422 `Nomor tidak terdaftar di WhatsApp` otherwise), both in a turn of the session\'s queue, which spaces messages and lookups by SEND_MIN_GAP_MS. A send that cannot start within SEND_MAX_WAIT_MS (or beyond SEND_QUEUE_MAX waiting) is refused at once: 429 SEND_QUEUE_FULL with Retry-After, the time the queued sends need. 503 SEND_QUEUE_CLOSED while the service shuts down. 409 `Session tidak terhubung` when the session is not connected.'
export const sendMediaDescription = 'multipart/form-data with `to`, `caption` (optional) and `file`. The type is read from the file\'s bytes, never from its name or content type: anything outside the accepted list is 415 `Tipe file <type> tidak didukung`; a file over MEDIA_MAX_BYTES is 413. Sent as image, video, audio or document like a text message (number check, queue).'
