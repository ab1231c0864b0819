import { Type, type Static } from './typebox.js'
import { named, Nullable, PhoneNumberField, SessionIdField, SuccessResponse } from './common.js'
import { sessionStatuses } from '../src/session-status.js'

export const Session = Type.Object({
  sessionId: Type.String(),
  status: Type.Union(sessionStatuses.map((status) => Type.Literal(status)), {
    description: 'initializing → qr (waiting for a scan or pairing code) → connecting → connected; reconnecting after a network loss; qr_timeout when nobody scanned; replaced when another client took over; failed when WhatsApp refused or reconnecting gave up'
  }),
  isConnected: Type.Boolean(),
  user: Nullable(Type.Object({ id: Type.String(), name: Nullable(Type.String()) })),
  qrAvailable: Type.Boolean(),
  pairingCode: Nullable(Type.String({ description: 'The code to type on the phone, while one is pending' })),
  reconnectAttempts: Type.Integer(),
  lastDisconnect: Nullable(Type.Object({
    kind: Type.String({ description: 'restart-required, logged-out, replaced, qr-timeout, forbidden, multidevice-mismatch or connection-lost' }),
    statusCode: Nullable(Type.Integer()),
    message: Type.String(),
    at: Type.String({ format: 'date-time' })
  })),
  createdAt: Type.String({ format: 'date-time' }),
  connectedAt: Nullable(Type.String({ format: 'date-time' })),
  updatedAt: Type.String({ format: 'date-time' }),
  restriction: Type.Optional(Nullable(Type.Object({
    newChats: Type.Literal('blocked', { description: 'WhatsApp refuses this account\'s messages to numbers it has no chat with (error 463); existing chats still work' }),
    until: Nullable(Type.String({ format: 'date-time', description: 'When WhatsApp said the restriction ends, if it said' })),
    reason: Type.String({ description: 'WhatsApp\'s enforcement type (e.g. BIZ_QUALITY, DEFAULT), NEW_CHAT_CAP_CAPPED, or REFUSED_463 when only a refusal told us' })
  }, { description: 'null when the account may start new chats' })))
}, named('Session', 'A linked (or linking) WhatsApp account'))
export type Session = Static<typeof Session>

const sessionReference = Type.Ref('Session')

// The example is a plain `{sessionId}`: run as shown in Swagger UI it links by QR. With the phone
// number's own example in it, trying the example asked WhatsApp for a pairing code instead.
export const CreateSessionBody = Type.Object({
  sessionId: SessionIdField({ examples: ['test-session'] }),
  phoneNumber: Type.Optional(Type.String({
    description: 'Optional. Only to link with a pairing code instead of a QR: the number of the phone to link, digits only (08123456789, 8123456789 or 628123456789); the answer\'s pairingCode is typed on that phone. Leave it out to scan a QR.'
  }))
}, { ...named('CreateSessionBody'), examples: [{ sessionId: 'test-session' }] })
export type CreateSessionBody = Static<typeof CreateSessionBody>

export const SessionResponse = SuccessResponse('SessionResponse', 'The session', sessionReference)
export type SessionResponse = Static<typeof SessionResponse>

export const SessionListResponse = SuccessResponse('SessionListResponse', 'Every session', Type.Object({
  sessions: Type.Record(Type.String(), sessionReference, { description: 'Keyed by session id' }),
  total: Type.Integer()
}))
export type SessionListResponse = Static<typeof SessionListResponse>

export const QrQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('png')], {
    description: 'png answers the QR as an image/png body (kept for links already in use; generated clients call getSessionQrPng)'
  }))
})
export type QrQuery = Static<typeof QrQuery>

export const QrResponse = SuccessResponse('QrResponse', 'The QR on offer, as text and as a PNG data URL', Type.Object({
  sessionId: Type.String(),
  qr: Type.String({ description: 'The raw QR text, for rendering it yourself' }),
  qrImage: Type.String({ description: 'PNG data URL, ready for an <img src>' })
}))
export type QrResponse = Static<typeof QrResponse>

export const QrPageQuery = Type.Object({
  token: Type.Optional(Type.String({ description: 'Signed token from POST /api/sessions/{sessionId}/qr-link' }))
})
export type QrPageQuery = Static<typeof QrPageQuery>

export const QrPageStateResponse = SuccessResponse('QrPageStateResponse', 'The session\'s state and current QR, for the page', Type.Object({
  sessionId: Type.String(),
  status: Type.String(),
  isConnected: Type.Boolean(),
  qrImage: Nullable(Type.String()),
  pairingCode: Nullable(Type.String()),
  user: Nullable(Type.Object({ id: Type.String(), name: Nullable(Type.String()) }))
}))
export type QrPageStateResponse = Static<typeof QrPageStateResponse>

export const QrLinkBody = Type.Object({
  expiresInSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 3600, default: 600, description: 'How long the link works; 10 minutes by default' }))
}, named('QrLinkBody'))
export type QrLinkBody = Static<typeof QrLinkBody>

export const QrLinkResponse = SuccessResponse('QrLinkResponse', 'A signed qr-page link', Type.Object({
  sessionId: Type.String(),
  url: Type.String({ description: 'The qr-page URL with its signed token; absolute when PUBLIC_URL is set' }),
  expiresAt: Type.String({ format: 'date-time' })
}))
export type QrLinkResponse = Static<typeof QrLinkResponse>

export const PairingCodeBody = Type.Object({ phoneNumber: PhoneNumberField }, named('PairingCodeBody'))
export type PairingCodeBody = Static<typeof PairingCodeBody>

export const PairingCodeResponse = SuccessResponse('PairingCodeResponse', 'The code to type on the phone', Type.Object({
  sessionId: Type.String(),
  phoneNumber: Type.String(),
  pairingCode: Type.String({ description: 'Type it on the phone: WhatsApp → Perangkat tertaut → Tautkan dengan nomor telepon' })
}))
export type PairingCodeResponse = Static<typeof PairingCodeResponse>

export const DeleteSessionResponse = SuccessResponse('DeleteSessionResponse', 'The session is gone', Type.Object({
  sessionId: Type.String(),
  loggedOut: Type.Boolean()
}))
export type DeleteSessionResponse = Static<typeof DeleteSessionResponse>

// Long OpenAPI descriptions of the routes, kept here so the route handlers stay short.
export const createSessionDescription = 'Starts linking a WhatsApp account. Fetch the QR from /api/sessions/{sessionId}/qr (or open qr-page), or pass phoneNumber to get an 8-character pairing code to type on the phone instead; when WhatsApp gives no code (502, 503) the session is not kept, so the same create can be retried. 429 SESSION_PENDING_LIMIT when SESSION_MAX_PENDING sessions already wait for their first scan; 409 SESSION_LIMIT at SESSION_MAX sessions.'
export const getSessionQrDescription = 'The QR on offer (raw text and PNG data URL), waiting a few seconds for WhatsApp to offer one (503 QR_NOT_AVAILABLE with Retry-After when it has not yet). After qr_timeout this starts a new QR cycle. ?format=png answers the image itself, for links already in use; a generated client calls getSessionQrPng (…/qr.png) for the image. 409 when the session is already connected.'
export const getSessionQrPngDescription = 'The QR on offer as an image/png body, like GET /api/sessions/{sessionId}/qr?format=png: waits a few seconds for WhatsApp to offer one (503 QR_NOT_AVAILABLE with Retry-After when it has not yet), starts a new QR cycle after qr_timeout. 409 when the session is already connected.'
export const getQrPageDescription = 'A self-contained HTML page (Indonesian) that shows the QR and follows the session live until the phone is connected. Needs the API key, or the token of a qr-link: a browser cannot send the key header, so ask POST /api/sessions/{sessionId}/qr-link for a URL and open that. Without either: 401 `QR_PAGE_KEY_REQUIRED`, which says so; a wrong or expired token: 401 `QR_LINK_INVALID`.'
export const createQrLinkDescription = 'A qr-page URL that works without the API key for a few minutes (10 by default), to hand to the phone\'s owner. Set PUBLIC_URL (with the path a reverse proxy publishes the service under, if any) to get an absolute URL.'
export const requestPairingCodeDescription = 'Asks WhatsApp for an 8-character code for this phone number; type it on the phone under Linked devices → Link with phone number. 409 when already connected; 502 PAIRING_CODE_FAILED when WhatsApp refuses, 503 QR_NOT_AVAILABLE when the socket is not ready yet (both with Retry-After).'
export const restartSessionDescription = 'Opens a new connection: a linked session reconnects with the same credentials, without a new scan; one that never linked (QR or pairing code) starts linking again with fresh credentials and a new QR.'
export const deleteSessionDescription = 'Logs the device out of WhatsApp when connected (it disappears from the phone\'s linked devices), deletes its credentials and forgets the session.'
