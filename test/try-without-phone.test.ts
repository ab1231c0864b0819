import { join } from 'node:path'
import t from 'tap'
import { temporaryDirectory, testApiKey, type TestContext } from './helper.js'
import { freePort, serviceStart, spawnNode, stopProcess, waitForOutput } from './processes.js'

// The README's "try it without a phone": the simulator CLI (`npm run sim`) and the built service
// (`npm start`'s entry) as separate processes, driven over HTTP as a person with curl would.
async function startProcess (t: TestContext, args: string[], env: Record<string, string>, ready: RegExp): Promise<void> {
  const started = spawnNode(args, { PATH: process.env.PATH, ...env })
  t.teardown(() => stopProcess(started.child))
  await waitForOutput(started, ready)
}

t.test('start the simulator, point the service at it, then the troubleshooting guide\'s commands', async (t) => {
  const directory = await temporaryDirectory(t)
  const simulatorPort = await freePort()
  const controlPort = await freePort()
  const servicePort = await freePort()
  const certificateFile = join(directory, 'simulator-cert.pem')

  await startProcess(t, ['--import', 'tsx', 'test/sim/cli.ts'], {
    SIM_PORT: String(simulatorPort),
    SIM_CONTROL_PORT: String(controlPort),
    SIM_CERT_FILE: certificateFile
  }, /control API/)
  await startProcess(t, serviceStart, {
    PORT: String(servicePort),
    API_KEY: testApiKey,
    WA_WEB_SOCKET_URL: `ws://127.0.0.1:${simulatorPort}/ws/chat`,
    WA_EXTRA_CA_FILE: certificateFile,
    AUTH_STATE_DIR: join(directory, 'auth_state'),
    LOG_DIR: join(directory, 'logs'),
    DATA_DIR: join(directory, 'data')
  }, /Server listening/)

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> => {
    const response = await fetch(`http://127.0.0.1:${servicePort}${path}`, {
      method,
      headers: { 'x-api-key': testApiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    return { status: response.status, json: await response.json() }
  }
  const control = async (path: string, body: unknown): Promise<any> => {
    const response = await fetch(`http://127.0.0.1:${controlPort}${path}`, { method: 'POST', body: JSON.stringify(body) })
    t.equal(response.status, 200, `control ${path}`)
    return await response.json()
  }

  t.equal((await api('POST', '/api/sessions/create', { sessionId: 'test-session' })).status, 201)
  const qr = await api('GET', '/api/sessions/test-session/qr')
  t.equal(qr.status, 200)
  await control('/scan', { qr: qr.json.data.qr, phone: '628111111111' })

  let status = await api('GET', '/api/sessions/test-session/status')
  for (let polls = 0; !status.json.data.isConnected && polls < 100; polls++) {
    // The troubleshooting guide's own client polls status; so does this test, a person would do the same.
    await new Promise((resolve) => setTimeout(resolve, 100))
    status = await api('GET', '/api/sessions/test-session/status')
  }
  t.match(status.json.data, { status: 'connected', isConnected: true })

  const list = await api('GET', '/api/sessions')
  t.equal(list.json.data.sessions['test-session'].isConnected, true)
  t.equal((await api('DELETE', '/api/sessions/test-session')).status, 200)
})
