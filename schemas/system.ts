import { Type, type Static } from './typebox.js'
import { SuccessResponse } from './common.js'

export const ServiceInfoResponse = SuccessResponse('ServiceInfoResponse', 'Name, version and links', Type.Object({
  name: Type.String(),
  version: Type.String(),
  description: Type.String(),
  links: Type.Object({ docs: Type.String(), openapi: Type.String(), health: Type.String() })
}))
export type ServiceInfoResponse = Static<typeof ServiceInfoResponse>

export const HealthCheckResult = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')])
}, { additionalProperties: true })
export type HealthCheckResult = Static<typeof HealthCheckResult>

export const HealthResponse = SuccessResponse('HealthResponse', 'Health, also when degraded (see data.status)', Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  memory: Type.Object({ rssBytes: Type.Integer(), heapUsedBytes: Type.Integer() }, { description: 'Read at most once a second: answers within the same second share one reading' }),
  checks: Type.Record(Type.String(), HealthCheckResult),
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
export const getHealthDescription = 'Overall status (ok or degraded), uptime, memory and the checks other parts of the service report (sessions, webhooks). With REDIS_URL also `instance` (this instance\'s id, URL and sessions it holds) and `cluster` (the live instances; null while Redis cannot be reached, and the status is degraded). No API key needed; answers 200 even when degraded so a load balancer can read the body.'
