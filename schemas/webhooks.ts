import { Type, type Static } from './typebox.js'
import { Nullable, SuccessResponse } from './common.js'

// The last failed attempt; also in the webhooks health check.
export const WebhookError = Type.Object({
  message: Type.String({ examples: ['HTTP 500'] }),
  at: Type.String({ format: 'date-time' }),
  event: Type.String(),
  url: Type.String()
})
export type WebhookError = Static<typeof WebhookError>

export const WebhookStatsResponse = SuccessResponse('WebhookStatsResponse', 'Webhook delivery counts since start', Type.Object({
  configured: Type.Boolean({ description: 'Whether WEBHOOK_URL is set' }),
  urlCount: Type.Integer({ description: 'How many URLs each event is sent to' }),
  delivered: Type.Integer({ description: 'Deliveries answered with a 2xx, since start' }),
  failed: Type.Integer({ description: 'Deliveries given up on (a 4xx, or retries exhausted), since start' }),
  retrying: Type.Integer({ description: 'Pending deliveries that failed at least once and wait for another attempt' }),
  pending: Type.Integer({ description: 'Deliveries not yet delivered or failed, retrying ones included' }),
  lastError: Nullable(WebhookError),
  lastDeliveredAt: Nullable(Type.String({ format: 'date-time' })),
  byEvent: Type.Record(Type.String(), Type.Object({ delivered: Type.Integer(), failed: Type.Integer() }), { description: 'Keyed by event name, e.g. otp.sent' })
}))
export type WebhookStatsResponse = Static<typeof WebhookStatsResponse>

// Long OpenAPI descriptions of the routes, kept here so the route handlers stay short.
export const getWebhookStatsDescription = 'Whether webhooks are configured, to how many URLs, deliveries delivered and failed (kept across restarts), pending and retrying; and since this process started: per event, the last error and the last successful delivery.'
