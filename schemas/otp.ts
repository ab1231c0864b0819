import { Type, type Static } from 'typebox'
import { fieldErrors, named, PhoneNumberField, SuccessResponse } from './common.js'
import { appNameMaxLength, appNamePattern } from '../src/otp-message.js'

export const SendOtpBody = Type.Object({
  to: PhoneNumberField,
  length: Type.Optional(Type.Integer({ minimum: 4, maximum: 10, description: 'Digits in the code; OTP_LENGTH (6) by default' })),
  expiresIn: Type.Optional(Type.Integer({ minimum: 30, maximum: 86_400, description: 'Seconds the code stays valid; OTP_TTL_SECONDS (300) by default' })),
  appName: Type.Optional(Type.String({
    maxLength: appNameMaxLength,
    pattern: appNamePattern,
    description: `Name shown in the message; OTP_APP_NAME by default. One line of 1-${appNameMaxLength} letters, digits, spaces and . , & ' ( ) + ! _ - (no line breaks, no links)`,
    examples: ['Toko Maju'],
    ...fieldErrors({ invalid: 'APP_NAME_INVALID' })
  }))
}, named('SendOtpBody'))
export type SendOtpBody = Static<typeof SendOtpBody>

export const SendOtpResponse = SuccessResponse('SendOtpResponse', 'WhatsApp accepted the OTP message', Type.Object({
  messageId: Type.String({ description: 'WhatsApp message id of the OTP message' }),
  to: Type.String({ description: 'The number sent to, with its country code' }),
  expiresAt: Type.String({ format: 'date-time', description: 'After this the code is refused as expired' }),
  resendAfter: Type.String({ format: 'date-time', description: 'The earliest time a new code can be sent to this number' }),
  code: Type.Optional(Type.String({ description: 'The code itself, only when the operator set OTP_EXPOSE_CODE=true (testing)' }))
}))
export type SendOtpResponse = Static<typeof SendOtpResponse>

export const VerifyOtpBody = Type.Object({
  to: PhoneNumberField,
  code: Type.String({ pattern: '^[0-9]{4,10}$', description: 'The code the user typed, as text (leading zeros count)', examples: ['123456'] })
}, named('VerifyOtpBody'))
export type VerifyOtpBody = Static<typeof VerifyOtpBody>

export const VerifyOtpResponse = SuccessResponse('VerifyOtpResponse', 'The code is right; it is now spent', Type.Object({
  verified: Type.Literal(true),
  to: Type.String({ description: 'The number verified, with its country code' })
}))
export type VerifyOtpResponse = Static<typeof VerifyOtpResponse>
