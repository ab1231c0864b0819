import createFastifyError from '@fastify/error'
import type { FastifyError } from 'fastify'
import { appNameRule } from './otp-message.js'

// An answer to a client's mistake (4xx) is thrown on hot paths, a wrong OTP or a number without
// a code among them: capturing a stack trace cost more than the rest of building the answer
// (bench/profile.ts verify) and says nothing about the client's mistake. 5xx keep their stacks.
function createError<C extends string, SC extends number> (
  code: C,
  message: string,
  statusCode: SC
): createFastifyError.FastifyErrorConstructor<{ code: C, statusCode: SC }> {
  return createFastifyError(code, message, statusCode, Error, statusCode >= 500)
}

// Every error the API can answer with: one machine code, one HTTP status, one Indonesian message.
// Clients match on these messages (see docs/troubleshooting.md), so they change only on purpose.
export const errors = {
  VALIDATION_FAILED: createError('VALIDATION_FAILED', 'Data permintaan tidak valid: %s', 400),
  BODY_TOO_LARGE: createError('BODY_TOO_LARGE', 'Ukuran permintaan melebihi batas', 413),
  UNSUPPORTED_CONTENT_TYPE: createError('UNSUPPORTED_CONTENT_TYPE', 'Content-Type %s tidak didukung: kirim body JSON dengan Content-Type: application/json (kirim file dengan multipart/form-data)', 415),
  INVALID_JSON: createError('INVALID_JSON', 'Body JSON tidak valid', 400),
  URL_INVALID: createError('URL_INVALID', 'URL tidak valid: periksa penulisan %-encoding pada path', 400),
  URL_PARAMETER_TOO_LONG: createError('URL_PARAMETER_TOO_LONG', 'Parameter di URL terlalu panjang', 414),
  ROUTE_NOT_FOUND: createError('ROUTE_NOT_FOUND', 'Endpoint %s %s tidak ditemukan', 404),
  INTERNAL_ERROR: createError('INTERNAL_ERROR', 'Terjadi kesalahan internal pada server', 500),
  UNAUTHORIZED: createError('UNAUTHORIZED', 'API key tidak valid atau tidak ada', 401),
  RATE_LIMITED: createError('RATE_LIMITED', 'Terlalu banyak permintaan, coba lagi dalam %s detik', 429),

  SESSION_ID_INVALID: createError('SESSION_ID_INVALID', 'Session ID tidak valid: gunakan 1-64 karakter huruf, angka, "_" atau "-"', 400),
  SESSION_EXISTS: createError('SESSION_EXISTS', 'Session %s sudah ada', 409),
  SESSION_NOT_FOUND: createError('SESSION_NOT_FOUND', 'Session %s tidak ditemukan', 404),
  SESSION_NOT_CONNECTED: createError('SESSION_NOT_CONNECTED', 'Session tidak terhubung', 409),
  SESSION_ALREADY_CONNECTED: createError('SESSION_ALREADY_CONNECTED', 'Session %s sudah terhubung, QR code tidak diperlukan', 409),
  SESSION_PENDING_LIMIT: createError('SESSION_PENDING_LIMIT', 'Terlalu banyak session menunggu scan QR (maksimal %s). Scan atau hapus session yang menunggu, lalu coba lagi', 429),
  SESSION_LIMIT: createError('SESSION_LIMIT', 'Jumlah session sudah mencapai batas (maksimal %s). Hapus session yang tidak dipakai', 409),
  // 503: the session exists, WhatsApp has not offered a QR yet; Retry-After says when to ask again.
  QR_NOT_AVAILABLE: createError('QR_NOT_AVAILABLE', 'QR code untuk session %s belum tersedia, coba lagi sebentar', 503),
  // 502: WhatsApp refused or did not answer; the request itself was fine and can be retried.
  PAIRING_CODE_FAILED: createError('PAIRING_CODE_FAILED', 'Gagal meminta kode pairing: %s', 502),
  QR_LINK_INVALID: createError('QR_LINK_INVALID', 'Link QR tidak valid atau sudah kedaluwarsa', 401),
  // The qr-page opened in a browser without a link: no link was wrong, so say how to get one.
  QR_PAGE_KEY_REQUIRED: createError('QR_PAGE_KEY_REQUIRED', 'Halaman QR memerlukan API key. Minta link dengan POST /api/sessions/%s/qr-link (dengan header X-API-Key) lalu buka data.url di browser, atau kirim API key di header X-API-Key', 401),

  PHONE_REQUIRED: createError('PHONE_REQUIRED', 'Nomor telepon diperlukan', 400),
  PHONE_INVALID_FORMAT: createError('PHONE_INVALID_FORMAT', 'Format nomor telepon tidak valid: %s. Gunakan angka saja, contoh 08123456789, 8123456789 atau 628123456789', 400),
  PHONE_NOT_ON_WHATSAPP: createError('PHONE_NOT_ON_WHATSAPP', 'Nomor tidak terdaftar di WhatsApp', 422),
  MESSAGE_TEXT_INVALID: createError('MESSAGE_TEXT_INVALID', 'Pesan harus berisi teks: 1-65536 karakter, tidak hanya spasi', 400),
  MESSAGE_SEND_FAILED: createError('MESSAGE_SEND_FAILED', 'Gagal mengirim pesan: %s', 502),
  MESSAGE_NOT_FOUND: createError('MESSAGE_NOT_FOUND', 'Pesan %s tidak ditemukan', 404),
  SEND_QUEUE_FULL: createError('SEND_QUEUE_FULL', 'Antrian pengiriman session %s penuh, coba lagi dalam %s detik', 429),
  // WhatsApp refused the message with 463: the sending account may not start new chats for now.
  SENDER_RESTRICTED: createError('SENDER_RESTRICTED', 'Akun WhatsApp session %s sedang dibatasi WhatsApp untuk memulai chat baru, pesan tidak terkirim. Coba lagi nanti atau kirim lewat session lain', 503),
  NO_SENDER_AVAILABLE: createError('NO_SENDER_AVAILABLE', 'Tidak ada session WhatsApp yang dapat mengirim ke nomor ini sekarang, coba lagi dalam %s detik', 503),
  SEND_QUEUE_CLOSED: createError('SEND_QUEUE_CLOSED', 'Session %s sedang ditutup, pesan tidak dikirim', 503),
  // 503: Redis (REDIS_URL) cannot be reached; nothing was changed, the same request can be retried.
  STATE_STORE_UNAVAILABLE: createError('STATE_STORE_UNAVAILABLE', 'Penyimpanan state (Redis) tidak dapat dihubungi, coba lagi sebentar', 503),

  FILE_REQUIRED: createError('FILE_REQUIRED', 'File diperlukan (field "file")', 400),
  FILE_TYPE_UNSUPPORTED: createError('FILE_TYPE_UNSUPPORTED', 'Tipe file %s tidak didukung', 415),
  FILE_TOO_LARGE: createError('FILE_TOO_LARGE', 'Ukuran file melebihi batas %s byte', 413),
  MULTIPART_INVALID: createError('MULTIPART_INVALID', 'Body multipart/form-data tidak valid atau terpotong', 400),
  MULTIPART_TOO_MANY_FILES: createError('MULTIPART_TOO_MANY_FILES', 'Hanya satu file yang boleh dikirim (field "file")', 413),
  MULTIPART_TOO_MANY_PARTS: createError('MULTIPART_TOO_MANY_PARTS', 'Terlalu banyak field dalam form: paling banyak %s field dan %s file', 413),
  MULTIPART_FIELD_TOO_LARGE: createError('MULTIPART_FIELD_TOO_LARGE', 'Field %s melebihi batas %s byte', 413),

  APP_NAME_INVALID: createError('APP_NAME_INVALID', `appName tidak valid: gunakan ${appNameRule}`, 400),
  OTP_COOLDOWN: createError('OTP_COOLDOWN', 'OTP untuk nomor ini baru saja dikirim, tunggu %s detik sebelum meminta lagi', 429),
  OTP_HOURLY_LIMIT: createError('OTP_HOURLY_LIMIT', 'Batas pengiriman OTP per jam untuk nomor ini tercapai, coba lagi dalam %s detik', 429),
  OTP_INVALID: createError('OTP_INVALID', 'Kode OTP salah, sisa percobaan: %s', 400),
  OTP_TOO_MANY_ATTEMPTS: createError('OTP_TOO_MANY_ATTEMPTS', 'Terlalu banyak percobaan salah, kode OTP dibatalkan. Minta kode baru', 429),
  OTP_EXPIRED: createError('OTP_EXPIRED', 'Kode OTP sudah kedaluwarsa. Minta kode baru', 410),
  VERIFICATION_NOT_FOUND: createError('VERIFICATION_NOT_FOUND', 'Verifikasi %s tidak ditemukan', 404),
  OTP_NOT_FOUND: createError('OTP_NOT_FOUND', 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru', 404),

  // Several instances on one Redis: all three are retryable, and say so with Retry-After.
  // The session's socket is held by no live instance right now (its holder died, or the lease moved
  // while the call was on its way); another instance takes it over within SESSION_LEASE_MS.
  SESSION_HOLDER_UNAVAILABLE: createError('SESSION_HOLDER_UNAVAILABLE', 'Session %s sedang dipindahkan ke instance lain, coba lagi sebentar', 503),
  INSTANCE_SIGNATURE_INVALID: createError('INSTANCE_SIGNATURE_INVALID', 'Tanda tangan antar-instance tidak valid', 401),
} as const

export type ErrorCode = keyof typeof errors

// What some errors tell the client beyond code and message; the envelope copies them
// (`retryAfter`, also sent as the Retry-After header, and `attemptsLeft`).
export interface ErrorDetails {
  retryAfterSeconds?: number
  attemptsLeft?: number
}
export type ApiError = FastifyError & ErrorDetails

export function withRetryAfter<E extends FastifyError> (error: E, retryAfterSeconds: number): E & { retryAfterSeconds: number } {
  return Object.assign(error, { retryAfterSeconds })
}

// Retry-After of SESSION_HOLDER_UNAVAILABLE: about when another instance has taken the session over.
export function holderRetryAfterSeconds (sessionLeaseMs: number): number {
  return Math.max(1, Math.ceil(sessionLeaseMs / 1000))
}

// A session between holders: the router's answer, and the old holder's for a session that moved.
export function holderUnavailable (sessionId: string, retryAfterSeconds: number): FastifyError {
  return withRetryAfter(new errors.SESSION_HOLDER_UNAVAILABLE(sessionId), retryAfterSeconds)
}

// An error another instance answered a call with (the session's holder, for a send the pool
// placed there): the client gets it as that instance gave it.
export function answeredElsewhere (
  statusCode: number,
  answer: { error: string, message: string, retryAfter?: number, attemptsLeft?: number }
): ApiError {
  const error = Object.assign(new Error(answer.message), { name: 'FastifyError', code: answer.error, statusCode }) as ApiError
  if (answer.retryAfter !== undefined) error.retryAfterSeconds = answer.retryAfter
  if (answer.attemptsLeft !== undefined) error.attemptsLeft = answer.attemptsLeft
  return error
}

export function withAttemptsLeft<E extends FastifyError> (error: E, attemptsLeft: number): E & { attemptsLeft: number } {
  return Object.assign(error, { attemptsLeft })
}

// The schema keyword that gives one field its own validation error instead of VALIDATION_FAILED:
// `missing` when the field is absent, `invalid` when its value breaks the field's rules. It sits on
// the field's schema, so only that field of that schema answers with it (see plugins/error-handler.ts).
export const fieldErrorKeyword = 'x-error-code'
export interface FieldErrorCodes {
  missing?: ErrorCode
  invalid?: ErrorCode
}
