import t from 'tap'
import { authHeaders, build } from './helper.js'

// Regression (issue 10, item 8): URLs the router cannot read were answered with Fastify's own JSON
// (`{"code":"FST_ERR_BAD_URL"}`, `414 FST_ERR_MAX_PARAM_LENGTH`), without our envelope or X-Request-Id.

const { app, readAppLog } = await build(t)

async function get (url: string) {
  return await app.inject({ method: 'GET', url, headers: authHeaders })
}

t.test('a malformed %-encoding is a 400 in the envelope, with a request id', async (t) => {
  for (const url of ['/api/sessions/%zz/status', '/api/sessions/%E0%A4%A/status', '/%zz', '/api/messages/format-phone/%']) {
    const response = await get(url)
    t.equal(response.statusCode, 400, url)
    t.same(response.json(), { success: false, message: 'URL tidak valid: periksa penulisan %-encoding pada path', error: 'URL_INVALID' }, url)
    t.match(response.headers['x-request-id'], /^[0-9a-f-]{36}$/, url)
  }
  const log = await readAppLog()
  t.match(log, /URL_INVALID/, 'logged like any other client error')
  t.notMatch(log, /request failed/)
})

t.test('the same on POST and DELETE routes', async (t) => {
  const deleted = await app.inject({ method: 'DELETE', url: '/api/sessions/%zz', headers: authHeaders })
  t.equal(deleted.statusCode, 400)
  t.equal(deleted.json().error, 'URL_INVALID')
  const sent = await app.inject({ method: 'POST', url: '/api/messages/%zz/text', headers: authHeaders, payload: { to: '08123456789', message: 'x' } })
  t.equal(sent.statusCode, 400)
  t.equal(sent.json().error, 'URL_INVALID')
})

t.test('a session id too long for the router is a 414 in the envelope', async (t) => {
  const response = await get(`/api/sessions/${'a'.repeat(10_000)}/status`)
  t.equal(response.statusCode, 414)
  t.same(response.json(), { success: false, message: 'Parameter di URL terlalu panjang', error: 'URL_PARAMETER_TOO_LONG' })
  t.ok(response.headers['x-request-id'])
})

t.test('a session id over 64 characters but within the router limit gets the session id error', async (t) => {
  for (const length of [65, 101, 512]) {
    const response = await get(`/api/sessions/${'a'.repeat(length)}/status`)
    t.equal(response.statusCode, 400, `${length} characters`)
    t.equal(response.json().error, 'SESSION_ID_INVALID', `${length} characters`)
  }
})
