import t from 'tap'
import { authHeaders, buildWithSimulator } from './helper.js'

// Regression (issue 10, item 9): DELETE or PUT .../restart with `Content-Type: application/json`
// and no body (as generated clients send them) got 400 INVALID_JSON; qr-link without a body got
// `400 body must be object`; a JSON body sent as text/plain got a 400 while form-urlencoded got 415.
// The rule now: JSON with application/json, anything else that carries a body is 415, and an empty
// body is fine wherever the route has no field to require.

const { app } = await buildWithSimulator(t)
const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'bodies' } })
t.equal(created.statusCode, 201)

const json = { ...authHeaders, 'content-type': 'application/json' }
const unsupported = (contentType: string) => ({
  success: false,
  message: `Content-Type ${contentType} tidak didukung: kirim body JSON dengan Content-Type: application/json (kirim file dengan multipart/form-data)`,
  error: 'UNSUPPORTED_CONTENT_TYPE'
})

t.test('restart and delete with Content-Type: application/json and no body are accepted', async (t) => {
  const restarted = await app.inject({ method: 'PUT', url: '/api/sessions/bodies/restart', headers: json })
  t.equal(restarted.statusCode, 200, restarted.body)
  const restartedWithEmptyPayload = await app.inject({ method: 'PUT', url: '/api/sessions/bodies/restart', headers: json, payload: '' })
  t.equal(restartedWithEmptyPayload.statusCode, 200, restartedWithEmptyPayload.body)
  const unknown = await app.inject({ method: 'DELETE', url: '/api/sessions/nobody', headers: json })
  t.equal(unknown.json().error, 'SESSION_NOT_FOUND', 'the route is reached, not stopped at the body')
})

t.test('an empty body with another content type is no body either', async (t) => {
  const response = await app.inject({ method: 'DELETE', url: '/api/sessions/nobody', headers: { ...authHeaders, 'content-type': 'text/plain' }, payload: '' })
  t.equal(response.json().error, 'SESSION_NOT_FOUND')
})

t.test('qr-link takes no body, an empty JSON body, or {}', async (t) => {
  for (const [name, headers, payload] of [['no body at all', authHeaders, undefined], ['empty JSON body', json, ''], ['{}', json, '{}']] as const) {
    const response = await app.inject({ method: 'POST', url: '/api/sessions/bodies/qr-link', headers, ...(payload === undefined ? {} : { payload }) })
    t.equal(response.statusCode, 200, `${name}: ${response.body}`)
    t.match(response.json().data.url, /^\/api\/sessions\/bodies\/qr-page\?token=/, name)
  }
  const withExpiry = await app.inject({ method: 'POST', url: '/api/sessions/bodies/qr-link', headers: json, payload: { expiresInSeconds: 120 } })
  t.equal(withExpiry.statusCode, 200)
})

t.test('a route that needs fields still refuses an empty JSON body', async (t) => {
  const response = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: json, payload: '' })
  t.equal(response.statusCode, 400)
  t.same(response.json(), { success: false, message: 'Body JSON tidak valid', error: 'INVALID_JSON' })
})

t.test('JSON sent as text/plain and form-urlencoded both get 415 with what to send instead', async (t) => {
  for (const contentType of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/xml']) {
    const payload = contentType.startsWith('application/x-www') ? 'sessionId=plain' : '{"sessionId":"plain"}'
    const response = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: { ...authHeaders, 'content-type': contentType }, payload })
    t.equal(response.statusCode, 415, contentType)
    t.same(response.json(), unsupported(contentType), contentType)
  }
  const sessions = await app.inject({ method: 'GET', url: '/api/sessions', headers: authHeaders })
  t.notOk('plain' in sessions.json().data.sessions, 'nothing was created')
})

t.test('a body without any Content-Type is 415 too', async (t) => {
  const response = await app.inject({
    method: 'POST',
    url: '/api/sessions/create',
    headers: authHeaders,
    payload: Buffer.from('{"sessionId":"untyped"}'),
    // inject would add a content type for a string or object payload
  })
  t.equal(response.statusCode, 415)
  t.same(response.json(), unsupported('(kosong)'))
})

t.test('multipart is only for the media route', async (t) => {
  const form = new FormData()
  form.set('to', '628123456789')
  form.set('message', 'hi')
  const encoded = new Response(form)
  const contentType = encoded.headers.get('content-type') ?? ''
  const response = await app.inject({ method: 'POST', url: '/api/messages/bodies/text', headers: { ...authHeaders, 'content-type': contentType }, payload: Buffer.from(await encoded.arrayBuffer()) })
  t.equal(response.statusCode, 415)
  t.equal(response.json().error, 'UNSUPPORTED_CONTENT_TYPE')
})
