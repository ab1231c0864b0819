import type { WebhookDelivery } from './state/state-store.js'
import { resultOfResponse, type AttemptResult } from './webhook-retry-policy.js'
import {
  webhookDeliveryHeader,
  webhookEventHeader,
  webhookSignatureHeader,
  webhookSignatureHeaderValue,
  webhookTimestampHeader
} from './webhook-signature.js'

export interface WebhookSenderOptions {
  secret?: string
  // Sent as `User-Agent: whatsapp-otp-api/<version>`.
  version: string
  requestTimeoutMs: number
  // Caps a receiver's Retry-After.
  maxDelayMs: number
  clock: () => number
}

// One signed POST of a delivery, and what its answer means.
export function createWebhookSender (options: WebhookSenderOptions): (delivery: WebhookDelivery) => Promise<AttemptResult> {
  const { secret, requestTimeoutMs, maxDelayMs, clock } = options
  const userAgent = `whatsapp-otp-api/${options.version}`

  // fetch rejects only with a TypeError (network) or a DOMException (the timeout's abort).
  function describeRequestError (error: unknown): string {
    const failure = error as Error
    if (failure.name === 'TimeoutError') return `no answer within ${requestTimeoutMs} ms`
    // Every network failure is "fetch failed"; the cause says which.
    const cause = failure.cause instanceof Error ? `: ${failure.cause.message}` : ''
    return failure.message + cause
  }

  return async function send (delivery) {
    const timestamp = Math.floor(clock() / 1000)
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': userAgent,
      [webhookEventHeader]: delivery.event,
      [webhookDeliveryHeader]: delivery.id,
      [webhookTimestampHeader]: String(timestamp)
    }
    if (secret !== undefined) headers[webhookSignatureHeader] = webhookSignatureHeaderValue(secret, timestamp, delivery.body)

    let response: Response
    try {
      response = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        // A redirected POST may turn into a GET elsewhere; the operator should fix the URL instead.
        redirect: 'manual',
        signal: AbortSignal.timeout(requestTimeoutMs)
      })
    } catch (error) {
      return { kind: 'retry', error: describeRequestError(error) }
    }
    // The answer's body is of no use to us; cancelling it frees the connection.
    await response.body?.cancel().catch(() => {})
    return resultOfResponse(response.status, response.headers.get('retry-after'), clock(), maxDelayMs)
  }
}
