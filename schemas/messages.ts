import { Type, type Static } from 'typebox'
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
