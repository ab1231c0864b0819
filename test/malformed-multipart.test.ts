import t from 'tap'
import { authHeaders, build } from './helper.js'

// Regression (issue 10, item 7): a broken multipart body answered 500 with a stack in the log, and
// the parser's limits answered `413 {"error":"FST_FILES_LIMIT"}` in the framework's English words.

const { app, readAppLog } = await build(t)

async function postMedia (contentType: string, payload: string | Buffer) {
  return await app.inject({ method: 'POST', url: '/api/messages/sender/media', headers: { ...authHeaders, 'content-type': contentType }, payload })
}

function multipartBody (boundary: string, parts: string[]): string {
  return parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('') + `--${boundary}--\r\n`
}
const field = (name: string, value: string): string => `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`
const file = (name: string, fileName: string, content: string): string =>
  `Content-Disposition: form-data; name="${name}"; filename="${fileName}"\r\nContent-Type: text/plain\r\n\r\n${content}`

const invalidMultipart = { success: false, message: 'Body multipart/form-data tidak valid atau terpotong', error: 'MULTIPART_INVALID' }

t.test('a multipart body without a boundary is a 400 in the envelope', async (t) => {
  const response = await postMedia('multipart/form-data', multipartBody('x', [field('to', '628123456789')]))
  t.equal(response.statusCode, 400)
  t.same(response.json(), invalidMultipart)
  t.ok(response.headers['x-request-id'])
})

t.test('a boundary that does not match the body is a 400', async (t) => {
  const response = await postMedia('multipart/form-data; boundary=other', multipartBody('x', [field('to', '628123456789'), file('file', 'a.txt', 'hello')]))
  t.equal(response.statusCode, 400)
  t.same(response.json(), invalidMultipart)
})

t.test('a truncated body is a 400, and nothing is logged as a server failure', async (t) => {
  const whole = multipartBody('x', [field('to', '628123456789'), file('file', 'a.txt', 'hello world, a longer text')])
  for (const cut of [whole.length - 10, whole.indexOf('hello') + 3, whole.indexOf('Content-Disposition') + 12]) {
    const response = await postMedia('multipart/form-data; boundary=x', whole.slice(0, cut))
    t.equal(response.statusCode, 400, `cut at ${cut}`)
    t.same(response.json(), invalidMultipart, `cut at ${cut}`)
  }
  t.notMatch(await readAppLog(), /request failed/)
})

t.test('a field named __proto__ is a 400', async (t) => {
  const response = await postMedia('multipart/form-data; boundary=x', multipartBody('x', [field('__proto__', 'x'), file('file', 'a.txt', 'hello')]))
  t.equal(response.statusCode, 400)
  t.same(response.json(), invalidMultipart)
})

t.test('two files are a 413 with our code and words', async (t) => {
  const response = await postMedia('multipart/form-data; boundary=x', multipartBody('x', [field('to', '628123456789'), file('file', 'a.txt', 'one'), file('file', 'b.txt', 'two')]))
  t.equal(response.statusCode, 413)
  t.same(response.json(), { success: false, message: 'Hanya satu file yang boleh dikirim (field "file")', error: 'MULTIPART_TOO_MANY_FILES' })
})

t.test('too many fields are a 413 with our code and words', async (t) => {
  const fields = Array.from({ length: 12 }, (_, index) => field(`field${index}`, 'x'))
  const response = await postMedia('multipart/form-data; boundary=x', multipartBody('x', [...fields, file('file', 'a.txt', 'one')]))
  t.equal(response.statusCode, 413)
  t.same(response.json(), { success: false, message: 'Terlalu banyak field dalam form: paling banyak 10 field dan 1 file', error: 'MULTIPART_TOO_MANY_PARTS' })
})

t.test('a field over the size limit is a 413', async (t) => {
  const response = await postMedia('multipart/form-data; boundary=x', multipartBody('x', [field('caption', 'a'.repeat(70 * 1024)), file('file', 'a.txt', 'one')]))
  t.equal(response.statusCode, 413)
  t.equal(response.json().error, 'MULTIPART_FIELD_TOO_LARGE')
})

t.test('a field declared as JSON that is not JSON is a 400', async (t) => {
  const response = await postMedia('multipart/form-data; boundary=x', multipartBody('x', ['Content-Disposition: form-data; name="to"\r\nContent-Type: application/json\r\n\r\n{not json', file('file', 'a.txt', 'one')]))
  t.equal(response.statusCode, 400)
  t.same(response.json(), invalidMultipart)
})

t.test('a file over MEDIA_MAX_BYTES is still FILE_TOO_LARGE', async (t) => {
  const { app } = await build(t, { env: { MEDIA_MAX_BYTES: '1024' } })
  const response = await app.inject({
    method: 'POST',
    url: '/api/messages/sender/media',
    headers: { ...authHeaders, 'content-type': 'multipart/form-data; boundary=x' },
    payload: multipartBody('x', [field('to', '628123456789'), file('file', 'a.txt', 'a'.repeat(2048))])
  })
  t.equal(response.statusCode, 413)
  t.same(response.json(), { success: false, message: 'Ukuran file melebihi batas 1024 byte', error: 'FILE_TOO_LARGE' })
})
