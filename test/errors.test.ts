import t from 'tap'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { authHeaders, build } from './helper.js'
import { PhoneNumberField } from '../schemas/common.js'
import { namedSchemas } from '../plugins/schemas.js'
import { errors, fieldErrorKeyword, type FieldErrorCodes } from '../src/errors.js'

const Body = Type.Object({ to: PhoneNumberField, count: Type.Integer() })
// A field that happens to be called `to` but is no phone number.
const DestinationBody = Type.Object({ to: Type.String(), count: Type.Integer() })

function addTestRoutes (app: FastifyInstance): void {
  app.post('/api/echo', { schema: { body: Body } }, async (request) => ({ success: true, data: request.body }))
  app.post('/api/destination', { schema: { body: DestinationBody } }, async (request) => ({ success: true, data: request.body }))
  app.get('/api/explode', async () => {
    throw new Error('database password is hunter2 at /srv/secret/path')
  })
}

t.test('an unknown route answers 404 in the envelope', async (t) => {
  const { app } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/api/nothing?x=1', headers: authHeaders })
  t.equal(response.statusCode, 404)
  t.same(response.json(), { success: false, message: 'Endpoint GET /api/nothing tidak ditemukan', error: 'ROUTE_NOT_FOUND' })
})

t.test('a body that fails validation answers 400 in the envelope', async (t) => {
  const { app } = await build(t, { beforeReady: addTestRoutes })
  const wrongType = await app.inject({ method: 'POST', url: '/api/echo', headers: authHeaders, payload: { to: '628123', count: 'three' } })
  t.equal(wrongType.statusCode, 400)
  t.equal(wrongType.json().success, false)
  t.equal(wrongType.json().error, 'VALIDATION_FAILED')
  t.match(wrongType.json().message, /^Data permintaan tidak valid: body\.count must be integer/)
})

t.test('types are not coerced: a number where a string belongs is a client error', async (t) => {
  const { app } = await build(t, { beforeReady: addTestRoutes })
  const response = await app.inject({ method: 'POST', url: '/api/echo', headers: authHeaders, payload: { to: 628123, count: 1 } })
  t.equal(response.statusCode, 400)
  t.match(response.json().message, /body\.to must be string/)
})

t.test('a missing phone number gets the troubleshooting guide\'s own message', async (t) => {
  const { app } = await build(t, { beforeReady: addTestRoutes })
  const response = await app.inject({ method: 'POST', url: '/api/echo', headers: authHeaders, payload: { count: 1 } })
  t.equal(response.statusCode, 400)
  t.same(response.json(), { success: false, message: 'Nomor telepon diperlukan', error: 'PHONE_REQUIRED' })
})

// Regression (issue 11, item 4): field errors were chosen by field name, so any missing field
// called `to` answered PHONE_REQUIRED. The code now sits on the phone field's schema.
t.test('a field\'s own error comes from its schema, not from its name', async (t) => {
  const { app } = await build(t, { beforeReady: addTestRoutes })
  const response = await app.inject({ method: 'POST', url: '/api/destination', headers: authHeaders, payload: { count: 1 } })
  t.equal(response.statusCode, 400)
  t.equal(response.json().error, 'VALIDATION_FAILED')
  t.match(response.json().message, /must have required property 'to'/)
  const wrongType = await app.inject({ method: 'POST', url: '/api/echo', headers: authHeaders, payload: { to: '628123', count: 'x' } })
  t.equal(wrongType.json().error, 'VALIDATION_FAILED', 'a phone field that is there does not make other failures PHONE_REQUIRED')
})

t.test('malformed JSON, a wrong content type and an oversized body', async (t) => {
  const { app } = await build(t, { env: { BODY_LIMIT_BYTES: '2048' }, beforeReady: addTestRoutes })
  const malformed = await app.inject({ method: 'POST', url: '/api/echo', headers: { ...authHeaders, 'content-type': 'application/json' }, payload: '{"to": ' })
  t.equal(malformed.statusCode, 400)
  t.same(malformed.json(), { success: false, message: 'Body JSON tidak valid', error: 'INVALID_JSON' })

  const empty = await app.inject({ method: 'POST', url: '/api/echo', headers: { ...authHeaders, 'content-type': 'application/json' }, payload: '' })
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().error, 'INVALID_JSON')

  const xml = await app.inject({ method: 'POST', url: '/api/echo', headers: { ...authHeaders, 'content-type': 'application/xml' }, payload: '<to/>' })
  t.equal(xml.statusCode, 415)
  t.equal(xml.json().error, 'UNSUPPORTED_CONTENT_TYPE')
  t.match(xml.json().message, /application\/xml tidak didukung/)

  const large = await app.inject({ method: 'POST', url: '/api/echo', headers: authHeaders, payload: { to: 'x'.repeat(4096), count: 1 } })
  t.equal(large.statusCode, 413)
  t.same(large.json(), { success: false, message: 'Ukuran permintaan melebihi batas', error: 'BODY_TOO_LARGE' })
})

t.test('an unexpected error answers 500 without internals, and is logged', async (t) => {
  const { app, readAppLog } = await build(t, { beforeReady: addTestRoutes })
  const response = await app.inject({ method: 'GET', url: '/api/explode', headers: authHeaders })
  t.equal(response.statusCode, 500)
  t.same(response.json(), { success: false, message: 'Terjadi kesalahan internal pada server', error: 'INTERNAL_ERROR' })
  t.notMatch(response.body, /hunter2|secret|Error:|at /)
  t.match(await readAppLog(), /hunter2/, 'the operator still sees the cause in the log')
})

t.test('a health check that throws degrades health instead of breaking it', async (t) => {
  const { app } = await build(t, {
    beforeReady: (app) => {
      // The whatsappVersion check reads the version source's state when it runs.
      app.whatsappVersion.state = () => { throw new Error('disk gone') }
      t.throws(() => app.healthChecks.add('sessions', () => ({ status: 'ok' })), /already registered/)
    }
  })
  const response = await app.inject({ method: 'GET', url: '/api/health' })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.equal(body.data.status, 'degraded')
  t.same(body.data.checks.whatsappVersion, { status: 'degraded', error: 'disk gone' }, 'the error is part of the answer')
  t.same(body.data.checks.stateStore, { status: 'ok', kind: 'embedded' }, 'the other checks still answer')
  t.ok(body.data.uptimeSeconds >= 0)
  t.ok(body.data.memory.rssBytes > 0)
})

// The error handler builds a field's error without arguments, so its message must need none.
t.test('every field error code named in a schema is an error whose message takes no parameter', async (t) => {
  const codes = new Set<string>()
  const collect = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return
    const fieldCodes = (value as Record<string, FieldErrorCodes | undefined>)[fieldErrorKeyword]
    if (fieldCodes?.missing !== undefined) codes.add(fieldCodes.missing)
    if (fieldCodes?.invalid !== undefined) codes.add(fieldCodes.invalid)
    for (const nested of Object.values(value)) collect(nested)
  }
  for (const schema of namedSchemas()) collect(schema)
  collect((await import('../schemas/common.js')).SessionIdParams)
  t.same([...codes].sort(), ['APP_NAME_INVALID', 'FILE_REQUIRED', 'MESSAGE_TEXT_INVALID', 'PHONE_REQUIRED', 'SESSION_ID_INVALID'])
  for (const code of codes) t.notMatch(new errors[code as keyof typeof errors]().message, /%[sdjifoO]/, `${code} needs no parameter`)
})
