import type { EventEmitter } from 'node:events'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { createLoggers } from '../src/logger.js'
import type { SessionEventMap } from '../src/events.js'
import { startSimulator, type SimulatorOptions, type WhatsAppSimulator } from './sim/index.js'

export const testApiKey = 'test-api-key-0123456789'

// The environment of a built service started as a process (the PATH only, nothing else inherited):
// its port, its own folders under `directory`, and the simulator when one is given.
export function serviceEnvironment (options: {
  port: number
  directory: string
  simulator?: { url: string, caFile: string }
}): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    PORT: String(options.port),
    API_KEY: testApiKey,
    AUTH_STATE_DIR: join(options.directory, 'auth_state'),
    LOG_DIR: join(options.directory, 'logs'),
    DATA_DIR: join(options.directory, 'data'),
    ...(options.simulator === undefined ? {} : { WA_WEB_SOCKET_URL: options.simulator.url, WA_EXTRA_CA_FILE: options.simulator.caFile })
  }
}

export interface TestContext {
  teardown: (fn: () => unknown) => void
}

export interface BuildOptions {
  env?: Record<string, string>
  directory?: string
  // Runs before ready(): lets a test add a route that exercises a shared mechanism (error handler).
  beforeReady?: (app: FastifyInstance) => void | Promise<void>
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  directory: string
  readAppLog: () => Promise<string>
}

export async function temporaryDirectory (t: TestContext, prefix = 'otp-api-test-'): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(directory, { recursive: true, force: true }))
  return directory
}

export function testConfig (directory: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    API_KEY: testApiKey,
    AUTH_STATE_DIR: join(directory, 'auth_state'),
    LOG_DIR: join(directory, 'logs'),
    DATA_DIR: join(directory, 'data'),
    LOG_LEVEL: 'info',
    WA_LOG_LEVEL: 'warn',
    // Tests never ask web.whatsapp.com; the simulator's tests point WA_VERSION_URL at it.
    WA_VERSION: 'bundled',
    ...env
  })
}

// Builds the real app on temporary folders and closes it when the test ends.
export async function build (t: TestContext, options: BuildOptions = {}): Promise<TestApp> {
  const directory = options.directory ?? await temporaryDirectory(t)
  const config = testConfig(directory, options.env)
  const loggers = createLoggers(config, { stdout: false })
  const app = await buildApp(config, { loggers })
  t.teardown(() => app.close())
  if (options.beforeReady !== undefined) await options.beforeReady(app)
  await app.ready()
  return {
    app,
    config,
    directory,
    readAppLog: async () => {
      await loggers.flush().catch(() => {})
      return await readFile(join(config.logDirectory, 'app.log'), 'utf8')
    }
  }
}

export const authHeaders = { 'x-api-key': testApiKey }

export interface SimulatorTestApp extends TestApp {
  simulator: WhatsAppSimulator
}

// The real app with the real WhatsApp library, pointed at the local simulator by configuration
// alone: WA_WEB_SOCKET_URL for the socket, WA_EXTRA_CA_FILE so media uploads trust its host.
export async function buildWithSimulator (
  t: TestContext,
  options: BuildOptions & { simulator?: WhatsAppSimulator, simulatorOptions?: SimulatorOptions } = {}
): Promise<SimulatorTestApp> {
  const directory = options.directory ?? await temporaryDirectory(t)
  let simulator = options.simulator
  if (simulator === undefined) {
    const started = await startSimulator(options.simulatorOptions)
    t.teardown(() => started.stop())
    simulator = started
  }
  const caFile = join(directory, 'simulator-ca.pem')
  await writeFile(caFile, simulator.mediaCertificate)
  const built = await build(t, {
    ...options,
    directory,
    env: {
      WA_WEB_SOCKET_URL: simulator.url,
      WA_EXTRA_CA_FILE: caFile,
      WA_CONNECT_TIMEOUT_MS: '5000',
      WA_QUERY_TIMEOUT_MS: '5000',
      RECONNECT_BASE_DELAY_MS: '50',
      RECONNECT_MAX_DELAY_MS: '500',
      SEND_MIN_GAP_MS: '0',
      WA_VERSION: 'auto',
      WA_VERSION_URL: simulator.versionUrl,
      ...options.env
    }
  })
  return { ...built, simulator }
}

// Resolves with the first registry event of that name for that session.
export async function nextSessionEvent<Name extends keyof SessionEventMap> (
  app: FastifyInstance,
  name: Name,
  sessionId: string,
  timeoutMs = 15_000
): Promise<SessionEventMap[Name][0]> {
  const signal = AbortSignal.timeout(timeoutMs)
  while (true) {
    const [event] = await once(app.sessions.events as EventEmitter, name, { signal }) as SessionEventMap[Name]
    if (event.sessionId === sessionId) return event
  }
}

// The troubleshooting guide's flow through the HTTP API: create, fetch the QR, the phone scans, 515, connected.
export async function linkSession (app: FastifyInstance, simulator: WhatsAppSimulator, sessionId: string, phone: string): Promise<void> {
  const connected = nextSessionEvent(app, 'connected', sessionId)
  const created = await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId } })
  if (created.statusCode !== 201) throw new Error(`create failed: ${created.statusCode} ${created.body}`)
  const qr = await app.inject({ method: 'GET', url: `/api/sessions/${sessionId}/qr`, headers: authHeaders })
  if (qr.statusCode !== 200) throw new Error(`qr failed: ${qr.statusCode} ${qr.body}`)
  await simulator.scanQr(qr.json().data.qr as string, { phone })
  await connected
}
