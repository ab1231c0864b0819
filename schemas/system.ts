import { Type, type Static, type TOptional, type TProperties } from './typebox.js'
import { Nullable, SuccessResponse } from './common.js'
import { WebhookError } from './webhooks.js'

export const ServiceInfoResponse = SuccessResponse('ServiceInfoResponse', 'Name, version and links', Type.Object({
  name: Type.String(),
  version: Type.String(),
  description: Type.String(),
  links: Type.Object({ docs: Type.String(), openapi: Type.String(), health: Type.String() })
}))
export type ServiceInfoResponse = Static<typeof ServiceInfoResponse>

export const HealthStatus = Type.Union([Type.Literal('ok'), Type.Literal('degraded')])
export type HealthStatus = Static<typeof HealthStatus>

// A check that throws is answered as { status: 'degraded', error } (plugins/health.ts), so every
// field of a check but its status is optional. A field a check returns that its schema does not
// name would be dropped from the answer: test/health-schema.test.ts compares them.
function HealthCheck<Fields extends TProperties> (fields: Fields, description: string) {
  const optional = Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, Type.Optional(schema)])) as
    { [Name in keyof Fields]: TOptional<Fields[Name]> }
  return Type.Object({
    status: HealthStatus,
    ...optional,
    error: Type.Optional(Type.String({ description: 'Why the check failed, when it did; its other fields may then be missing' }))
  }, { description })
}

export const StateStoreCheck = HealthCheck({
  kind: Type.Union([Type.Literal('embedded'), Type.Literal('redis')], { description: 'embedded: DATA_DIR on this machine; redis: REDIS_URL' })
}, 'Whether the state store (OTP records, limits, deliveries) answers a read')
export type StateStoreCheck = Static<typeof StateStoreCheck>

export const WhatsAppVersionCheck = HealthCheck({
  version: Type.String({ description: 'The WhatsApp Web version new sockets announce', examples: ['2.3000.1023456789'] }),
  source: Type.Union([Type.Literal('fetched'), Type.Literal('bundled'), Type.Literal('configured')], { description: 'fetched from WA_VERSION_URL, bundled with the WhatsApp library, or configured by WA_VERSION' }),
  fetchedAt: Nullable(Type.String({ format: 'date-time' }), { description: 'When the version was fetched; null unless source is fetched' }),
  lastError: Nullable(Type.String(), { description: 'Why the last fetch failed; null when it worked or none was made' })
}, 'The WhatsApp Web version in use')
export type WhatsAppVersionCheck = Static<typeof WhatsAppVersionCheck>

export const SessionsCheck = HealthCheck({
  total: Type.Integer({ description: 'Sessions this instance runs' }),
  connected: Type.Integer(),
  waitingForScan: Type.Integer({ description: 'Not yet linked, waiting for a QR scan or pairing code' }),
  byStatus: Type.Record(Type.String(), Type.Integer(), { description: 'Keyed by session status (connected, qr, reconnecting, ...); statuses with no session are left out' }),
  restore: Type.Object({
    total: Type.Integer(),
    done: Type.Integer(),
    pending: Type.Integer()
  }, { description: 'Sessions found in AUTH_STATE_DIR at start, and how many of them have been opened' })
}, 'Sessions by status; degraded while a session failed, was replaced or timed out waiting for a scan')
export type SessionsCheck = Static<typeof SessionsCheck>

export const WebhooksCheck = HealthCheck({
  configured: Type.Boolean({ description: 'Whether WEBHOOK_URL is set' }),
  pending: Type.Integer({ description: 'Deliveries not yet delivered or failed, retrying ones included' }),
  retrying: Type.Integer({ description: 'Pending deliveries that failed at least once and wait for another attempt' }),
  failedAttemptsInARow: Type.Integer({ description: 'Failed attempts since the last delivery, over every URL' }),
  lastError: Nullable(WebhookError),
  lastDeliveredAt: Nullable(Type.String({ format: 'date-time' }))
}, 'Webhook deliveries; degraded after several failed attempts in a row')
export type WebhooksCheck = Static<typeof WebhooksCheck>

export const CountersCheck = HealthCheck({
  totalOTPSent: Type.Integer({ description: 'OTP messages sent since start' }),
  failedRequests: Type.Integer({ description: 'Messages (OTP, text, media) that failed to send since start' }),
  activeSessions: Type.Integer({ description: 'Sessions connected now' })
}, 'The monitoring counters of the troubleshooting guide (best practices 4)')
export type CountersCheck = Static<typeof CountersCheck>

// The checks buildApp registers, each from its plugin (plugins/state-store.ts, whatsapp-version.ts,
// session-registry.ts, webhooks.ts, metrics.ts); every build registers all of them.
export const HealthCheckResults = Type.Object({
  stateStore: StateStoreCheck,
  whatsappVersion: WhatsAppVersionCheck,
  sessions: SessionsCheck,
  webhooks: WebhooksCheck,
  counters: CountersCheck
}, { description: 'What each part of the service reports; one degraded part degrades the whole' })
export type HealthCheckResults = Static<typeof HealthCheckResults>

export const HealthResponse = SuccessResponse('HealthResponse', 'Health, also when degraded (see data.status)', Type.Object({
  status: HealthStatus,
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  memory: Type.Object({ rssBytes: Type.Integer(), heapUsedBytes: Type.Integer() }, { description: 'Read at most once a second: answers within the same second share one reading' }),
  checks: HealthCheckResults,
  // Only with REDIS_URL (several instances).
  instance: Type.Optional(Type.Object({ id: Type.String(), url: Type.String(), sessionsHeld: Type.Integer() })),
  cluster: Type.Optional(Type.Union([
    Type.Object({
      liveInstances: Type.Integer(),
      instances: Type.Array(Type.Object({ id: Type.String(), url: Type.String() }))
    }),
    Type.Null()
  ], { description: 'The instances alive in Redis; null while Redis cannot be reached' }))
}))
export type HealthResponse = Static<typeof HealthResponse>

// Long OpenAPI descriptions of the routes, kept here so the route handlers stay short.
export const getServiceInfoDescription = 'Name, version and links to the API documentation and health endpoint (absolute under PUBLIC_URL when it is set, otherwise relative to this root). No API key needed.'
export const getHealthDescription = 'Overall status (ok or degraded), uptime, memory and the checks each part of the service reports (stateStore, whatsappVersion, sessions, webhooks, counters; a check that fails is degraded with an `error`). With REDIS_URL also `instance` (this instance\'s id, URL and sessions it holds) and `cluster` (the live instances; null while Redis cannot be reached, and the status is degraded). No API key needed; answers 200 even when degraded so a load balancer can read the body.'
