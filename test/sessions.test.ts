import { access, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { startSimulator } from './sim/index.js'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'

const exists = async (path: string): Promise<boolean> => await access(path).then(() => true, () => false)

t.test('the troubleshooting guide\'s flow: create, QR, scan, 515, connected, with exactly one scan', async (t) => {
  const { app, simulator, config, readAppLog } = await buildWithSimulator(t)
  const states: string[] = []
  app.sessions.events.on('state', (event) => { if (event.sessionId === 'test-session') states.push(event.status) })

  await linkSession(app, simulator, 'test-session', '628111111111')

  t.equal(simulator.registrations, 1, 'one registration: the phone scanned once')
  t.equal(simulator.logins, 1, 'the 515 restart logged in with the saved credentials')
  t.same(states, ['qr', 'connecting', 'connected'])
  t.match(await readAppLog(), /Connection closed untuk session test-session\. Reconnecting: true/, 'the log line the troubleshooting guide shows')
  t.ok(await exists(join(config.authStateDirectory, 'test-session', 'creds.json')))

  const status = await app.inject({ method: 'GET', url: '/api/sessions/test-session/status', headers: authHeaders })
  t.equal(status.statusCode, 200)
  t.match(status.json().data, { sessionId: 'test-session', status: 'connected', isConnected: true, qrAvailable: false, user: { id: /^628111111111:\d+@s\.whatsapp\.net$/ } })
  t.equal(status.json().data.lastDisconnect.statusCode, 515)

  const list = await app.inject({ method: 'GET', url: '/api/sessions', headers: authHeaders })
  const body = list.json()
  t.equal(body.data.total, 1)
  // The troubleshooting guide's health-check script: Object.entries(data.data.sessions) and session.isConnected.
  for (const [sessionId, session] of Object.entries(body.data.sessions as Record<string, { isConnected: boolean }>)) {
    t.equal(sessionId, 'test-session')
    t.equal(session.isConnected, true)
  }

  const qr = await app.inject({ method: 'GET', url: '/api/sessions/test-session/qr', headers: authHeaders })
  t.equal(qr.statusCode, 409, 'no QR for a connected session')
  t.equal(qr.json().error, 'SESSION_ALREADY_CONNECTED')

  const health = await app.inject({ method: 'GET', url: '/api/health' })
  t.match(health.json().data.checks.sessions, { status: 'ok', total: 1, connected: 1 })
})

t.test('the QR comes as text, data URL and PNG, and waits for WhatsApp to offer one', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'qr-session' } })
  t.equal(created.statusCode, 201)
  t.equal(created.json().success, true)
  t.match(created.json().message, /Session qr-session berhasil dibuat/)

  const qr = await app.inject({ method: 'GET', url: '/api/sessions/qr-session/qr', headers: authHeaders })
  t.equal(qr.statusCode, 200)
  t.match(qr.json().data.qr, /^https:\/\/wa\.me\/settings\/linked_devices#|^[^,]+,[^,]+,[^,]+,[^,]+/)
  t.match(qr.json().data.qrImage, /^data:image\/png;base64,/)

  const png = await app.inject({ method: 'GET', url: '/api/sessions/qr-session/qr?format=png', headers: authHeaders })
  t.equal(png.statusCode, 200)
  t.equal(png.headers['content-type'], 'image/png')
  t.same([...png.rawPayload.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

  const status = await app.inject({ method: 'GET', url: '/api/sessions/qr-session/status', headers: authHeaders })
  t.match(status.json().data, { status: 'qr', isConnected: false, qrAvailable: true })
  t.equal(simulator.registrations, 1)
})

t.test('a restart of the whole service brings the session back with no scan', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const first = await buildWithSimulator(t, { simulator })
  await linkSession(first.app, simulator, 'durable', '628122222222')
  await first.app.close()
  t.equal(simulator.connectionCount('628122222222'), 0, 'shutdown closed the socket')

  const second = await buildWithSimulator(t, { simulator, directory: first.directory })
  const status = second.app.sessions.get('durable')
  if (status.status !== 'connected') await nextSessionEvent(second.app, 'connected', 'durable')
  t.equal(second.app.sessions.get('durable').isConnected, true)
  t.equal(simulator.registrations, 1, 'no second scan')
  t.equal(simulator.logins, 2)
})

t.test('the phone removes the device (401): session forgotten, credentials deleted', async (t) => {
  const { app, simulator, config, readAppLog } = await buildWithSimulator(t)
  await linkSession(app, simulator, 'removed', '628133333333')
  const loggedOut = nextSessionEvent(app, 'logged_out', 'removed')
  simulator.forceClose('628133333333', 'device-removed')
  // Regression: the session used to leave the list before its folder was deleted.
  while (app.sessions.list().length > 0) await new Promise(resolve => setImmediate(resolve))
  t.equal(await exists(join(config.authStateDirectory, 'removed')), false, 'folder gone once the list is empty')
  await loggedOut
  t.equal(await exists(join(config.authStateDirectory, 'removed')), false, 'credentials folder deleted')
  t.match(await readAppLog(), /Connection closed untuk session removed\. Reconnecting: false/)
  const list = await app.inject({ method: 'GET', url: '/api/sessions', headers: authHeaders })
  t.same(list.json().data, { sessions: {}, total: 0 })
  const status = await app.inject({ method: 'GET', url: '/api/sessions/removed/status', headers: authHeaders })
  t.equal(status.statusCode, 404)
  t.same(status.json(), { success: false, message: 'Session removed tidak ditemukan', error: 'SESSION_NOT_FOUND' })
})

t.test('a login refused with 401 at start also forgets the session', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const first = await buildWithSimulator(t, { simulator })
  await linkSession(first.app, simulator, 'refused', '628144444444')
  await first.app.close()
  simulator.rejectLogins('628144444444', true)

  const second = await buildWithSimulator(t, { simulator, directory: first.directory })
  if (second.app.sessions.list().length > 0) await nextSessionEvent(second.app, 'removed', 'refused')
  t.same(second.app.sessions.list(), [])
  t.equal(await exists(join(second.config.authStateDirectory, 'refused')), false)
})

t.test('connection replaced (440): state replaced, credentials kept, no reconnect storm', async (t) => {
  const { app, simulator, config } = await buildWithSimulator(t)
  await linkSession(app, simulator, 'replaced', '628155555555')
  const replaced = nextSessionEvent(app, 'replaced', 'replaced')
  simulator.forceClose('628155555555', 'replaced')
  await replaced
  const loginsAfterReplace = simulator.logins
  // Proving that nothing happens takes a wait: several reconnect steps of this test's backoff (50 ms base).
  await new Promise((resolve) => setTimeout(resolve, 600))
  t.equal(simulator.logins, loginsAfterReplace, 'no reconnect attempt')
  t.equal(simulator.connectionCount('628155555555'), 0)
  t.match(app.sessions.get('replaced'), { status: 'replaced', isConnected: false, lastDisconnect: { kind: 'replaced', statusCode: 440 } })
  t.ok(await exists(join(config.authStateDirectory, 'replaced', 'creds.json')), 'credentials kept')

  const health = await app.inject({ method: 'GET', url: '/api/health' })
  t.equal(health.json().data.status, 'degraded')

  const message = await app.inject({ method: 'PUT', url: '/api/sessions/replaced/restart', headers: authHeaders })
  t.equal(message.statusCode, 200)
  if (app.sessions.get('replaced').status !== 'connected') await nextSessionEvent(app, 'connected', 'replaced')
  t.equal(simulator.registrations, 1, 'taking the session back needs no scan')
})

t.test('nobody scans: qr_timeout, then asking for the QR starts a fresh cycle', async (t) => {
  const { app, simulator } = await buildWithSimulator(t, { simulatorOptions: { qrRefs: 1 }, env: { WA_QR_TIMEOUT_MS: '1000' } })
  const timedOut = new Promise<void>((resolve) => {
    app.sessions.events.on('state', (event) => { if (event.sessionId === 'lonely' && event.status === 'qr_timeout') resolve() })
  })
  await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'lonely' } })
  await timedOut
  const status = app.sessions.get('lonely')
  t.match(status, { status: 'qr_timeout', qrAvailable: false, lastDisconnect: { kind: 'qr-timeout', statusCode: 408 } })
  t.equal(simulator.connectionCount(), 0, 'no endless QR cycling')

  const qr = await app.inject({ method: 'GET', url: '/api/sessions/lonely/qr', headers: authHeaders })
  t.equal(qr.statusCode, 200)
  t.equal(app.sessions.get('lonely').status, 'qr')
  const connected = nextSessionEvent(app, 'connected', 'lonely')
  await simulator.scanQr(qr.json().data.qr, { phone: '628166666666' })
  await connected
  t.equal(simulator.registrations, 2, 'the second cycle was a new registration, then linked')
})

t.test('network drop: reconnecting, then connected again without a scan', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  await linkSession(app, simulator, 'flaky', '628177777777')
  const states: string[] = []
  app.sessions.events.on('state', (event) => { if (event.sessionId === 'flaky') states.push(event.status) })
  const reconnected = nextSessionEvent(app, 'connected', 'flaky')
  simulator.dropConnections('628177777777')
  await reconnected
  t.same(states, ['reconnecting', 'connected'])
  t.equal(simulator.registrations, 1)
  t.equal(app.sessions.get('flaky').reconnectAttempts, 0, 'attempts reset once connected')
  t.equal(app.sessions.get('flaky').lastDisconnect?.kind, 'connection-lost')
})

t.test('keep-alive silence: WhatsApp stops answering, the session reconnects', async (t) => {
  const { app, simulator } = await buildWithSimulator(t, { env: { WA_KEEP_ALIVE_MS: '1000' } })
  await linkSession(app, simulator, 'silent', '628188888888')
  const disconnected = nextSessionEvent(app, 'disconnected', 'silent', 20_000)
  simulator.setKeepAliveAnswers(false)
  const close = await disconnected
  t.equal(close.statusCode, 408)
  t.equal(close.kind, 'connection-lost')
  t.equal(close.willReconnect, true)
  simulator.setKeepAliveAnswers(true)
  await nextSessionEvent(app, 'connected', 'silent')
  t.equal(simulator.registrations, 1)
})

t.test('a server that stays away: backoff, then failed after the configured attempts', async (t) => {
  const simulator = await startSimulator()
  const { app } = await buildWithSimulator(t, { simulator, env: { RECONNECT_MAX_ATTEMPTS: '3' } })
  await linkSession(app, simulator, 'stranded', '628199999999')
  const failed = new Promise<string>((resolve) => {
    app.sessions.events.on('state', (event) => { if (event.sessionId === 'stranded' && event.status === 'failed') resolve(event.reason) })
  })
  const attempts: number[] = []
  app.sessions.events.on('disconnected', (event) => { if (event.sessionId === 'stranded') attempts.push(app.sessions.get('stranded').reconnectAttempts) })
  await simulator.stop()
  t.match(await failed, /gave up after 3 reconnect attempts/)
  t.same(attempts, [0, 1, 2, 3], 'the drop itself, then three failed attempts, then no more')
  const health = await app.inject({ method: 'GET', url: '/api/health' })
  t.equal(health.json().data.status, 'degraded')
})

t.test('PUT restart while connected reconnects with the same credentials', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  await linkSession(app, simulator, 'test-session', '628121212121')
  const connected = nextSessionEvent(app, 'connected', 'test-session')
  const restart = await app.inject({ method: 'PUT', url: '/api/sessions/test-session/restart', headers: authHeaders })
  t.equal(restart.statusCode, 200)
  t.equal(restart.json().message, 'Session test-session sedang di-restart')
  t.equal(restart.json().data.status, 'connecting')
  await connected
  t.equal(simulator.registrations, 1, 'never a new scan')
  t.equal(simulator.logins, 2)
  t.equal(simulator.connectionCount('628121212121'), 1, 'the old socket is gone')
})

t.test('DELETE while connected logs out and removes the folder', async (t) => {
  const { app, simulator, config } = await buildWithSimulator(t)
  await linkSession(app, simulator, 'old-session', '628131313131')
  const response = await app.inject({ method: 'DELETE', url: '/api/sessions/old-session', headers: authHeaders })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { success: true, message: 'Session old-session berhasil dihapus', data: { sessionId: 'old-session', loggedOut: true } })
  t.equal(await exists(join(config.authStateDirectory, 'old-session')), false)
  t.equal(simulator.connectionCount('628131313131'), 0)
  const again = await app.inject({ method: 'DELETE', url: '/api/sessions/old-session', headers: authHeaders })
  t.equal(again.statusCode, 404)

  // The troubleshooting guide's "hapus dan buat ulang": the same id can be created again at once.
  const recreated = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'old-session' } })
  t.equal(recreated.statusCode, 201)
})

t.test('DELETE of a session still waiting for a scan', async (t) => {
  const { app, config } = await buildWithSimulator(t)
  await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'pending' } })
  const response = await app.inject({ method: 'DELETE', url: '/api/sessions/pending', headers: authHeaders })
  t.equal(response.json().data.loggedOut, false)
  t.same(await readdir(config.authStateDirectory), [])
})

t.test('concurrent creates of one id: one 201, one 409 with the troubleshooting guide\'s message', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  const responses = await Promise.all([1, 2, 3].map(async () => await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'abc' } })))
  t.same(responses.map((response) => response.statusCode).sort(), [201, 409, 409])
  const conflict = responses.find((response) => response.statusCode === 409)
  t.same(conflict?.json(), { success: false, message: 'Session abc sudah ada', error: 'SESSION_EXISTS' })
  await app.inject({ method: 'GET', url: '/api/sessions/abc/qr', headers: authHeaders })
  t.equal(simulator.connectionCount(), 1, 'one socket for one session')
})

t.test('bad session ids are rejected before anything touches the disk', async (t) => {
  const { app, config } = await buildWithSimulator(t)
  for (const sessionId of ['../x', '', 'a'.repeat(65), 'with space', 'semi;colon', 'ünïcode']) {
    const response = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId } })
    t.equal(response.statusCode, 400, JSON.stringify(sessionId))
    t.equal(response.json().error, 'SESSION_ID_INVALID')
  }
  const missing = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: {} })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'SESSION_ID_INVALID')
  for (const url of ['/api/sessions/..%2Fx/status', `/api/sessions/${'a'.repeat(65)}/qr`, '/api/sessions/a%20b/restart']) {
    const response = await app.inject({ method: url.endsWith('restart') ? 'PUT' : 'GET', url, headers: authHeaders })
    t.equal(response.statusCode, 400, url)
  }
  t.same(await readdir(config.authStateDirectory), [], 'nothing created on disk')
  t.equal(await exists(join(config.authStateDirectory, '..', 'x')), false)
})

t.test('unknown sessions answer 404 with the session id', async (t) => {
  const { app } = await buildWithSimulator(t)
  const requests = [
    { method: 'GET' as const, url: '/api/sessions/nobody/status' },
    { method: 'GET' as const, url: '/api/sessions/nobody/qr' },
    { method: 'PUT' as const, url: '/api/sessions/nobody/restart' },
    { method: 'DELETE' as const, url: '/api/sessions/nobody' },
    { method: 'POST' as const, url: '/api/sessions/nobody/qr-link', payload: {} },
    { method: 'POST' as const, url: '/api/sessions/nobody/pairing-code', payload: { phoneNumber: '628123456789' } }
  ]
  for (const request of requests) {
    const response = await app.inject({ ...request, headers: authHeaders })
    t.equal(response.statusCode, 404, `${request.method} ${request.url}`)
    t.same(response.json(), { success: false, message: 'Session nobody tidak ditemukan', error: 'SESSION_NOT_FOUND' })
  }
})

t.test('a pairing code instead of a QR', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  const requested = simulator.waitFor('pairing-code')
  const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'by-code', phoneNumber: '08123456789' } })
  t.equal(created.statusCode, 201)
  t.match(created.json().data.pairingCode, /^[A-Z0-9]{8}$/)
  t.match(created.json().message, /kode pairing/)
  t.match(await requested, { phone: '628123456789' }, 'WhatsApp got the request for that number')

  const again = await app.inject({ method: 'POST', url: '/api/sessions/by-code/pairing-code', headers: authHeaders, payload: { phoneNumber: '628123456789' } })
  t.equal(again.statusCode, 200)
  t.match(again.json().data, { sessionId: 'by-code', phoneNumber: '628123456789', pairingCode: /^[A-Z0-9]{8}$/ })
  t.equal(app.sessions.get('by-code').pairingCode, again.json().data.pairingCode)

  const badNumber = await app.inject({ method: 'POST', url: '/api/sessions/by-code/pairing-code', headers: authHeaders, payload: { phoneNumber: '+628123456789' } })
  t.equal(badNumber.statusCode, 400)
  t.equal(badNumber.json().error, 'PHONE_INVALID_FORMAT')
  const missing = await app.inject({ method: 'POST', url: '/api/sessions/by-code/pairing-code', headers: authHeaders, payload: {} })
  t.same(missing.json(), { success: false, message: 'Nomor telepon diperlukan', error: 'PHONE_REQUIRED' })
})
