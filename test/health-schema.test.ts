// Fastify's serializer leaves out, without a word, every field the response schema does not name:
// a field a health check starts returning would never reach /api/health. These tests run the
// checks and compare every field they return, nested ones too, with schemas/system.ts.
import { once } from 'node:events'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { HealthCheckResults } from '../schemas/system.js'
import { build, buildWithSimulator, linkSession } from './helper.js'
import { startWebhookReceiver } from './helpers/webhook-receiver.js'
import { startRedisServer } from './state/redis-server.js'

// The parts of a JSON Schema that name an object's fields: its properties, a record's
// patternProperties, or the object branch of a nullable union.
interface SchemaNode {
  properties?: Record<string, SchemaNode>
  patternProperties?: Record<string, SchemaNode>
  anyOf?: SchemaNode[]
  required?: string[]
}

// The paths of the fields in `value` that `schema` does not name.
function unnamedFields (value: unknown, schema: SchemaNode, path: string): string[] {
  if (typeof value !== 'object' || value === null) return []
  const objectSchema = schema.anyOf?.find((branch) => branch.properties !== undefined || branch.patternProperties !== undefined) ?? schema
  const recordValues = objectSchema.patternProperties === undefined ? undefined : Object.values(objectSchema.patternProperties)[0]
  return Object.entries(value).flatMap(([name, field]) => {
    const fieldSchema = recordValues ?? objectSchema.properties?.[name]
    return fieldSchema === undefined ? [`${path}.${name}`] : unnamedFields(field, fieldSchema, `${path}.${name}`)
  })
}

const checksSchema = HealthCheckResults as SchemaNode
const checkNames = Object.keys(checksSchema.properties!).sort()

async function assertChecksMatchSchema (t: Test, app: FastifyInstance): Promise<HealthCheckResults> {
  const { checks } = await app.healthChecks.run()
  t.same(Object.keys(checks).sort(), checkNames, 'every check the schema names is registered, and no other')
  t.same(unnamedFields(checks, checksSchema, 'checks'), [], 'every field the checks return is named in the schema')
  return checks
}

t.test('a check that throws answers status and error only, which every check\'s schema allows', async (t) => {
  for (const name of checkNames) {
    const checkSchema = checksSchema.properties![name]!
    t.same(checkSchema.required, ['status'], `${name}: only status is required`)
    t.ok(checkSchema.properties!.error, `${name}: names error`)
  }
})

t.test('embedded: every field of every check is in the schema and in the answer', async (t) => {
  const receiver = await startWebhookReceiver(t)
  // A receiver that fails, so the webhooks check has a lastError to show.
  receiver.answer = (_request, response) => { response.writeHead(500).end() }
  const { app, simulator } = await buildWithSimulator(t, { env: { WEBHOOK_URL: receiver.url } })
  const firstResult = once(app.webhooks.events, 'result')
  await linkSession(app, simulator, 'main', '6281300000031')
  await firstResult

  const checks = await assertChecksMatchSchema(t, app)
  // The nested objects were there to compare, not null.
  t.match(checks.webhooks, { configured: true, lastError: { message: String, url: String } })
  t.match(checks.whatsappVersion, { source: 'fetched', fetchedAt: String })
  t.match(checks.sessions, { connected: 1, byStatus: { connected: 1 }, restore: { total: 0 } })

  const answered = (await app.inject({ method: 'GET', url: '/api/health' })).json().data.checks as Record<string, object>
  for (const name of checkNames) {
    t.same(Object.keys(answered[name]!), Object.keys(checks[name as keyof typeof checks]), `${name}: the answer keeps every field`)
  }
})

t.test('Redis: every field of every check is in the schema, also while Redis is down', async (t) => {
  const redis = await startRedisServer(t)
  const { app } = await build(t, { env: { REDIS_URL: redis.url, OTP_SECRET: 'secret-of-the-test-cluster-0123' } })
  t.match((await assertChecksMatchSchema(t, app)).stateStore, { status: 'ok', kind: 'redis' })

  await redis.stop()
  t.match((await assertChecksMatchSchema(t, app)).stateStore, { status: 'degraded', kind: 'redis', error: String })
  await redis.start()
})
