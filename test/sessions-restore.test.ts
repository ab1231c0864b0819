// Sessions over a restart and sessions that never link, against the simulator with real Baileys.
import { access, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'
import { startSimulator, type WhatsAppSimulator } from './sim/index.js'

const exists = async (path: string): Promise<boolean> => await access(path).then(() => true, () => false)

// Listens from the call on, so call it before what causes the change.
async function untilStatus (app: FastifyInstance, sessionId: string, status: string): Promise<void> {
  const signal = AbortSignal.timeout(15_000)
  await new Promise<void>((resolve, reject) => {
    const listener = (event: { sessionId: string, status: string }): void => {
      if (event.sessionId !== sessionId || event.status !== status) return
      app.sessions.events.off('state', listener)
      resolve()
    }
    app.sessions.events.on('state', listener)
    signal.addEventListener('abort', () => reject(new Error(`${sessionId} never reached ${status}`)))
  })
}

t.test('restarting a session that asked for a pairing code starts its linking again, never deletes it', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'rs2', phoneNumber: '08123456789' } })
  t.equal(created.statusCode, 201)
  const removed = new Promise((resolve) => app.sessions.events.on('removed', resolve))

  const nextQr = nextSessionEvent(app, 'qr', 'rs2')
  const restarted = await app.inject({ method: 'PUT', url: '/api/sessions/rs2/restart', headers: authHeaders })
  t.equal(restarted.statusCode, 200)
  const { qr } = await nextQr
  t.equal(app.sessions.get('rs2').status, 'qr', 'a new QR is on offer (it used to log in with half-registered credentials and get 401)')
  const status = await app.inject({ method: 'GET', url: '/api/sessions/rs2/status', headers: authHeaders })
  t.equal(status.statusCode, 200, 'still listed')

  const code = await app.inject({ method: 'POST', url: '/api/sessions/rs2/pairing-code', headers: authHeaders, payload: { phoneNumber: '08123456789' } })
  t.equal(code.statusCode, 200, 'a new pairing code can be asked for')
  const connected = nextSessionEvent(app, 'connected', 'rs2')
  await simulator.scanQr(qr, { phone: '628123456789' })
  await connected
  t.equal(await Promise.race([removed.then(() => 'removed'), Promise.resolve('kept')]), 'kept')
})

t.test('DELETE reports loggedOut from inside the session lock, not from a status read before it', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  await linkSession(app, simulator, 'racing', '628155555501')
  // The restart takes the lock first and drops the open socket, so the delete finds the session
  // connecting and has nobody to log out; it used to answer loggedOut: true from an earlier read.
  const [restart, removal] = await Promise.all([
    app.inject({ method: 'PUT', url: '/api/sessions/racing/restart', headers: authHeaders }),
    app.inject({ method: 'DELETE', url: '/api/sessions/racing', headers: authHeaders })
  ])
  t.equal(restart.statusCode, 200)
  t.equal(removal.statusCode, 200)
  t.equal(removal.json().data.loggedOut, false)
})

t.test('a session that never linked leaves no folder behind, and leaves the list after SESSION_UNLINKED_TTL', async (t) => {
  const { app, config } = await buildWithSimulator(t, { simulatorOptions: { qrRefs: 1 }, env: { WA_QR_TIMEOUT_MS: '1000', SESSION_UNLINKED_TTL: '1500' } })
  const folder = join(config.authStateDirectory, 'lonely')
  const timedOut = untilStatus(app, 'lonely', 'qr_timeout')
  await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'lonely' } })
  t.equal(await exists(folder), true, 'a folder while it waits for a scan')
  await timedOut
  const forgotten = nextSessionEvent(app, 'removed', 'lonely')
  while (await exists(folder)) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(app.sessions.get('lonely').status, 'qr_timeout', 'listed as timed out, with no folder on disk')
  await forgotten
  const status = await app.inject({ method: 'GET', url: '/api/sessions/lonely/status', headers: authHeaders })
  t.equal(status.statusCode, 404, 'forgotten once SESSION_UNLINKED_TTL passed')
})

t.test('at start, folders without linked credentials are removed and linked ones restored', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const first = await buildWithSimulator(t, { simulator })
  await linkSession(first.app, simulator, 'kept', '628155555502')
  // A pairing-code request writes credentials that look half linked; the service stops meanwhile.
  await first.app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'half', phoneNumber: '628155555503' } })
  await first.app.close()
  const authState = first.config.authStateDirectory
  t.equal(await exists(join(authState, 'half', 'creds.json')), true)
  await mkdir(join(authState, 'empty', 'keys'), { recursive: true })
  await writeFile(join(authState, 'not-a-session.txt'), 'left alone')

  const second = await buildWithSimulator(t, { simulator, directory: first.directory })
  t.same((await readdir(authState)).sort(), ['kept', 'not-a-session.txt'])
  t.same(second.app.sessions.list().map((session) => session.sessionId), ['kept'])
})

// Links a device as the phone's scan does, through the service's own transport, and stops at
// WhatsApp's 515 before the first login (that login belongs to the restore under test). On a
// loaded machine a socket can time out before it offers a QR: it is opened again.
async function linkWithoutLogin (
  app: FastifyInstance,
  simulator: WhatsAppSimulator,
  directory: string,
  sessionId: string,
  phone: string
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let offered: (qr: string | null) => void = () => {}
    const qr = new Promise<string | null>((resolve) => { offered = resolve })
    let closed: (kind: string) => void = () => {}
    const restartRequired = new Promise<string>((resolve) => { closed = resolve })
    await app.transport.connect(sessionId, directory, {
      qr: (text) => offered(text),
      close: (close) => { offered(null); closed(close.kind) }
    })
    const text = await qr
    if (text === null) {
      if (attempt === 3) throw new Error(`${sessionId} offered no QR`)
      continue
    }
    await simulator.scanQr(text, { phone })
    // The transport reports the close once the credentials are on disk.
    if (await restartRequired !== 'restart-required') throw new Error(`${sessionId} closed without the 515`)
    return
  }
}

async function linkMany (app: FastifyInstance, simulator: WhatsAppSimulator, authStateDirectory: string, count: number): Promise<void> {
  const ids = Array.from({ length: count }, (_, index) => `bulk-${index}`)
  for (let start = 0; start < ids.length; start += 10) {
    await Promise.all(ids.slice(start, start + 10).map(async (sessionId, offset) =>
      await linkWithoutLogin(app, simulator, join(authStateDirectory, sessionId), sessionId, `62819${String(start + offset).padStart(7, '0')}`)))
  }
}

t.test('a restart with 200 linked sessions answers at once and brings every one back without a scan', async (t) => {
  const count = 200
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const first = await buildWithSimulator(t, { simulator, env: { LOG_LEVEL: 'warn' } })
  await linkMany(first.app, simulator, first.config.authStateDirectory, count)
  await first.app.close()
  t.equal(simulator.connectionCount(), 0, 'shutdown closed every socket')
  const registrations = simulator.registrations

  const second = await buildWithSimulator(t, { simulator, directory: first.directory, env: { LOG_LEVEL: 'warn' } })
  // Ready (it used to wait in onReady for every socket, and Fastify gave it 10 s): every session
  // is listed already, and the API answers while they come back.
  t.equal(second.app.sessions.list().length, count)
  const health = await second.app.inject({ method: 'GET', url: '/api/health' })
  t.equal(health.statusCode, 200)
  t.match(health.json().data.checks.sessions, { total: count, restore: { total: count } })
  const waiting = second.app.sessions.list().find((session) => !session.isConnected)
  if (waiting !== undefined) {
    const send = await second.app.inject({ method: 'POST', url: `/api/messages/${waiting.sessionId}/text`, headers: authHeaders, payload: { to: '628120000001', message: 'halo' } })
    t.equal(send.statusCode, 503, 'a session on its way back: 503, not 409')
    t.match(send.json(), { success: false, message: 'Session tidak terhubung', error: 'SESSION_NOT_CONNECTED', retryAfter: Number })
    t.ok(Number(send.headers['retry-after']) >= 1)
  }

  while (second.app.sessions.counts().connected < count) {
    await new Promise((resolve) => second.app.sessions.events.once('connected', resolve))
  }
  t.equal(simulator.registrations, registrations, 'no scan')
  const after = await second.app.inject({ method: 'GET', url: '/api/health' })
  t.match(after.json().data.checks.sessions, { connected: count, restore: { total: count, done: count, pending: 0 } })
})
