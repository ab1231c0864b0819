import { execFileSync } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { createLoggers, logPendingMaxBytes } from '../src/logger.js'
import { build, temporaryDirectory, testApiKey } from './helper.js'

t.test('each request is one info line with method, path, status, time and request id', async (t) => {
  const { app, readAppLog } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/api/health?verbose=1' })
  const requestId = response.headers['x-request-id']
  t.match(requestId, /^[0-9a-f-]{36}$/)
  const lines = (await readAppLog()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  const requestLines = lines.filter((line) => line.reqId === requestId)
  t.equal(requestLines.length, 1, 'one line per request, not an incoming and a completed line')
  t.match(requestLines[0], { level: 30, msg: 'request completed', method: 'GET', path: '/api/health', statusCode: 200 })
  t.type(requestLines[0]?.responseTimeMs, 'number')
  t.notMatch(JSON.stringify(requestLines[0]), /verbose/)
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
  for (const name of ['api_key', 'apiKey', 'key', 'access_token']) {
    await app.inject({ method: 'GET', url: `/api/sessions?${name}=query-key-${name}-0123456789` })
  }
  app.log.info({ headers: { authorization: `Bearer ${testApiKey}` }, code: '123456', pairingCode: 'ABCD1234', data: { code: '654321' } }, 'a handler logging too much')
  const log = await readAppLog()
  t.ok(log.length > 0)
  t.notMatch(log, new RegExp(testApiKey))
  t.notMatch(log, /a-wrong-key-that-is-secret/)
  t.notMatch(log, /signed-secret-token/)
  t.notMatch(log, /query-key-/)
  t.notMatch(log, /123456|654321|ABCD1234/)
  t.match(log, /"path":"\/api\/sessions\/x\/qr-page"/)
})

t.test('a long URL is cut in the log', async (t) => {
  const { app, readAppLog } = await build(t)
  await app.inject({ method: 'GET', url: `/api/${'p'.repeat(3000)}?${'q'.repeat(4000)}` })
  const log = await readAppLog()
  t.notMatch(log, /p{201}/)
  t.notMatch(log, /q{10}/)
  t.match(log, /p{190}…/)
})

t.test('error codes stay readable in logged errors', async (t) => {
  const { app, readAppLog } = await build(t)
  const error = Object.assign(new Error('no such file'), { code: 'ENOENT' })
  app.log.error({ err: error }, 'reading failed')
  app.log.error(Object.assign(new Error('framework'), { code: 'FST_ERR_CTP_EMPTY_JSON_BODY' }))
  const log = await readAppLog()
  t.match(log, /"code":"ENOENT"/)
  t.match(log, /"code":"FST_ERR_CTP_EMPTY_JSON_BODY"/)
})

t.test('app.log and whatsapp-service.log rotate by size and keep LOG_FILE_COUNT old files', async (t) => {
  const { app, config } = await build(t, { env: { LOG_FILE_MAX_BYTES: '2048', LOG_FILE_COUNT: '2', WA_LOG_LEVEL: 'info' } })
  for (let index = 0; index < 100; index++) {
    await app.inject({ method: 'GET', url: '/api/health' })
    app.whatsappLogger.info({ index }, 'a line from the WhatsApp library')
  }
  await app.close()
  const { readdir, stat } = await import('node:fs/promises')
  const files = (await readdir(config.logDirectory)).sort()
  t.same(files, ['app.log', 'app.log.1', 'app.log.2', 'whatsapp-service.log', 'whatsapp-service.log.1', 'whatsapp-service.log.2'])
  for (const file of files) {
    t.ok((await stat(`${config.logDirectory}/${file}`)).size < 2048 + 1024, `${file} stays near the size limit`)
  }
})

t.test('the last lines reach the file when the app closes', async (t) => {
  const { app, config } = await build(t)
  for (let index = 0; index < 2000; index++) app.log.info({ index }, 'filler line')
  app.log.info('the very last line')
  await app.close()
  const { readFile } = await import('node:fs/promises')
  const log = await readFile(`${config.logDirectory}/app.log`, 'utf8')
  t.match(log, /"index":1999/)
  t.match(log, /the very last line/)
})

t.test('the WhatsApp library gets its own log file', async (t) => {
  const { app, config } = await build(t, { env: { WA_LOG_LEVEL: 'info' } })
  app.whatsappLogger.info({ marker: 'whatsapp-line' }, 'hello from the WhatsApp library')
  const { readFile } = await import('node:fs/promises')
  await app.close()
  const log = await readFile(`${config.logDirectory}/whatsapp-service.log`, 'utf8')
  t.match(log, /whatsapp-line/)
})

t.test('an answer with an error code is still one line, naming the code', async (t) => {
  const { app, readAppLog } = await build(t)
  const response = await app.inject({ method: 'POST', url: '/api/otp/verify', headers: { 'x-api-key': testApiKey }, payload: { to: '081234567890', code: '123456' } })
  t.equal(response.statusCode, 404)
  const requestId = response.headers['x-request-id']
  const lines = (await readAppLog()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  const requestLines = lines.filter((line) => line.reqId === requestId)
  t.equal(requestLines.length, 1, 'no second line from the error handler')
  t.match(requestLines[0], { level: 30, msg: 'request completed', statusCode: 404, errorCode: 'OTP_NOT_FOUND' })
})

t.test('lines reach app.log while the service runs, without waiting for a flush', async (t) => {
  const { app, config } = await build(t)
  const { readFile } = await import('node:fs/promises')
  const response = await app.inject({ method: 'GET', url: '/' })
  const requestId = String(response.headers['x-request-id'])
  const started = Date.now()
  let log = ''
  while (!log.includes(requestId) && Date.now() - started < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    log = await readFile(`${config.logDirectory}/app.log`, 'utf8').catch(() => '')
  }
  t.ok(log.includes(requestId), 'the line is written within 5 s')
  t.match(log, /"msg":"request completed"/)
})

t.test('lines through a request\'s own logger carry its request id once, redaction applied', async (t) => {
  const { app, readAppLog } = await build(t, {
    beforeReady: (app) => {
      app.get('/boom', async () => {
        throw Object.assign(new Error('broken'), { otp: '112233' })
      })
      // Logs through the request's logger before answering: the child made on first use.
      app.get('/logs', async (request) => {
        request.log.warn({ detail: { otp: '445566' } }, 'handler line')
        request.log.level = 'warn'
        return { level: request.log.level }
      })
    }
  })
  const failed = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'errored-1', 'x-api-key': testApiKey } })
  t.equal(failed.statusCode, 500)
  const logged = await app.inject({ method: 'GET', url: '/logs', headers: { 'x-request-id': 'logs-1', 'x-api-key': testApiKey } })
  t.same(logged.json(), { level: 'warn' })
  const log = await readAppLog()
  t.notMatch(log, /112233|445566/)
  const handlerLine = log.split('\n').find((line) => line.includes('handler line'))
  t.match(handlerLine, /"reqId":"logs-1"/)
  t.equal(handlerLine?.match(/"reqId"/g)?.length, 1)
  const failedLines = log.split('\n').filter((line) => line.includes('errored-1'))
  t.ok(failedLines.some((line) => /"level":50/.test(line)), 'an error line for the failure')
})

t.test('a log file that does not keep up holds a bounded amount, drops the rest and says how many', async (t) => {
  const directory = await temporaryDirectory(t)
  // Every thread of libuv's pool waits to open a FIFO nobody writes to: the log file's writes
  // wait behind them, as they would on a stuck disk.
  const fifos = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, (_, index) => join(directory, `fifo-${index}`))
  for (const fifo of fifos) execFileSync('mkfifo', [fifo])
  const readers = fifos.map(async (fifo) => await open(fifo, 'r'))
  const loggers = createLoggers({ logDirectory: directory, logLevel: 'info', whatsappLogLevel: 'warn', logFileMaxBytes: 1024 * 1024 * 1024, logFileCount: 2 }, { stdout: false })
  const text = 'x'.repeat(1000)
  const lines = Math.ceil(2 * logPendingMaxBytes / text.length)
  for (let line = 0; line < lines; line++) loggers.app.info({ line }, text)

  for (const fifo of fifos) closeSync(openSync(fifo, 'w'))
  for (const reader of readers) await (await reader).close()
  await loggers.close()
  const logged = await readFile(join(directory, 'app.log'), 'utf8')
  const written = logged.split('\n').filter((entry) => entry.includes('"line":')).length
  const notice = /"msg":"(\d+) log lines dropped: the log file did not keep up"/.exec(logged)
  t.ok(notice, 'a line says how many were dropped')
  t.ok(written < lines, `${written} of ${lines} written`)
  t.ok(written * text.length <= logPendingMaxBytes + 256 * 1024, 'what waited for the disk stayed within the bound')
  t.equal(written + Number(notice?.[1]), lines, 'every line is either written or counted')
})
