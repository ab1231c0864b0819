import t from 'tap'
import { build, testApiKey } from './helper.js'

t.test('every request line carries a request id, echoed to the client', async (t) => {
  const { app, readAppLog } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/api/health' })
  const requestId = response.headers['x-request-id']
  t.match(requestId, /^[0-9a-f-]{36}$/)
  const lines = (await readAppLog()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  const requestLines = lines.filter((line) => line.reqId === requestId)
  t.ok(requestLines.length >= 2, 'incoming request and response are both logged with the id')
  t.ok(requestLines.some((line) => line.msg === 'incoming request'))
  t.ok(requestLines.some((line) => line.msg === 'request completed'))
})

t.test('a request id sent by a proxy is kept', async (t) => {
  const { app } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'from-the-proxy-42' } })
  t.equal(response.headers['x-request-id'], 'from-the-proxy-42')
})

t.test('a request id that is long or unsafe is replaced by our own', async (t) => {
  const { app, readAppLog } = await build(t)
  const offered = ['x'.repeat(65), 'a b', 'line\u00e9break', 'id;drop', '<script>', 'x'.repeat(5000)]
  for (const requestId of offered) {
    const response = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': requestId } })
    t.match(response.headers['x-request-id'], /^[0-9a-f-]{36}$/, requestId.slice(0, 20))
  }
  const longest = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'A-z_0.9'.padEnd(64, 'k') } })
  t.equal(longest.headers['x-request-id'], 'A-z_0.9'.padEnd(64, 'k'), '64 safe characters are kept')
  t.notMatch(await readAppLog(), /x{65}/)
})

t.test('API keys and Authorization headers never reach the log', async (t) => {
  const { app, readAppLog } = await build(t, { env: { LOG_LEVEL: 'trace' } })
  await app.inject({ method: 'GET', url: '/api/health', headers: { 'x-api-key': testApiKey } })
  await app.inject({ method: 'GET', url: '/api/nothing', headers: { authorization: `Bearer ${testApiKey}` } })
  await app.inject({ method: 'GET', url: '/api/nothing', headers: { 'x-api-key': 'a-wrong-key-that-is-secret' } })
  await app.inject({ method: 'GET', url: '/api/sessions/x/qr-page?token=signed-secret-token&x=1' })
  app.log.info({ headers: { authorization: `Bearer ${testApiKey}` }, code: '123456' }, 'a handler logging too much')
  const log = await readAppLog()
  t.ok(log.length > 0)
  t.notMatch(log, new RegExp(testApiKey))
  t.notMatch(log, /a-wrong-key-that-is-secret/)
  t.notMatch(log, /signed-secret-token/)
  t.notMatch(log, /123456/)
  t.match(log, /token=\[Redacted\]&x=1/)
})

t.test('the WhatsApp library gets its own log file', async (t) => {
  const { app, config } = await build(t, { env: { WA_LOG_LEVEL: 'info' } })
  app.whatsappLogger.info({ marker: 'whatsapp-line' }, 'hello from the WhatsApp library')
  const { readFile } = await import('node:fs/promises')
  await app.close()
  const log = await readFile(`${config.logDirectory}/whatsapp-service.log`, 'utf8')
  t.match(log, /whatsapp-line/)
})
