import { createHmac, timingSafeEqual } from 'node:crypto'

// Header names sent with every webhook request. Node lowercases incoming header names, so a
// receiver built on node:http reads them as `request.headers[name.toLowerCase()]`.
export const webhookEventHeader = 'X-Webhook-Event'
export const webhookDeliveryHeader = 'X-Webhook-Delivery'
export const webhookTimestampHeader = 'X-Webhook-Timestamp'
export const webhookSignatureHeader = 'X-Webhook-Signature'

const signaturePrefix = 'sha256='
const signatureHexLength = 64

// The timestamp is signed together with the body so a captured request cannot be replayed
// later with a fresh timestamp: the receiver rejects old timestamps, and cannot be fooled
// by a new one without the secret.
export function signWebhook (secret: string, timestamp: number | string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')
}

export function webhookSignatureHeaderValue (secret: string, timestamp: number | string, body: string | Uint8Array): string {
  return signaturePrefix + signWebhook(secret, timestamp, body)
}

export interface VerifyWebhookSignatureOptions {
  // How far the timestamp may be from now, either way; 300 seconds unless told.
  toleranceSeconds?: number
  // Milliseconds since the epoch, as Date.now() gives.
  now?: number
}

// Takes header values as node:http gives them (string, string[] or undefined) so a receiver
// can pass `request.headers[...]` straight in. The body must be the raw bytes received,
// not a re-serialized parse of them.
export function verifyWebhookSignature (
  secret: string,
  timestamp: string | string[] | number | undefined,
  body: string | Uint8Array,
  signatureHeader: string | string[] | undefined,
  options: VerifyWebhookSignatureOptions = {}
): boolean {
  const { toleranceSeconds = 300, now = Date.now() } = options
  if (typeof signatureHeader !== 'string' || !signatureHeader.startsWith(signaturePrefix)) return false
  const receivedHex = signatureHeader.slice(signaturePrefix.length)
  if (receivedHex.length !== signatureHexLength || !/^[0-9a-f]+$/i.test(receivedHex)) return false

  const timestampText = String(timestamp)
  if (!/^\d+$/.test(timestampText)) return false
  if (Math.abs(now / 1000 - Number(timestampText)) > toleranceSeconds) return false

  const expected = Buffer.from(signWebhook(secret, timestampText, body), 'hex')
  const received = Buffer.from(receivedHex, 'hex')
  return timingSafeEqual(expected, received)
}
