// One measured process: links (or restores) N sessions against the simulator and prints one JSON
// line with what it measured. Run by bench/run.ts, compiled (dist/bench), so each figure comes
// from a clean process whose memory holds nothing but what is measured: the raw mode loads
// Baileys alone, never the service's modules, and no TypeScript loader runs beside it.
import { mkdir } from 'node:fs/promises'
import { Agent } from 'node:https'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import makeWASocket, { useMultiFileAuthState, type WASocket } from '@whiskeysockets/baileys'
import { pino } from 'pino'

interface WorkerOptions {
  mode: 'service' | 'raw' | 'restore'
  sessions: number
  simulatorUrl: string
  controlUrl: string
  certificateFile: string
  directory: string
  messages: number
  // How long the raw mode sends text messages one after the other, to time them.
  sequentialSendSeconds: number
}

const options = JSON.parse(process.argv[2]) as WorkerOptions
const gc = (globalThis as { gc?: () => void }).gc

function settledRss (): number {
  gc?.()
  gc?.()
  return process.memoryUsage().rss
}

async function control (path: string, body: unknown): Promise<unknown> {
  const response = await fetch(options.controlUrl + path, { method: 'POST', body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`simulator control ${path}: ${response.status} ${await response.text()}`)
  return await response.json()
}

const phoneOf = (index: number): string => `62811${String(index).padStart(7, '0')}`

async function runService (): Promise<Record<string, number>> {
  const { buildApp } = await import('../src/app.js')
  const { loadConfig } = await import('../src/config.js')
  const { createLoggers } = await import('../src/logger.js')
  const config = loadConfig({
    AUTH_STATE_DIR: join(options.directory, 'auth_state'),
    LOG_DIR: join(options.directory, 'logs'),
    DATA_DIR: join(options.directory, 'data'),
    LOG_LEVEL: 'warn',
    WA_LOG_LEVEL: 'error',
    WA_WEB_SOCKET_URL: options.simulatorUrl,
    WA_EXTRA_CA_FILE: options.certificateFile
  })
  const started = performance.now()
  const app = await buildApp(config, { loggers: createLoggers(config, { stdout: false }) })
  const allConnected = new Promise<void>((resolve) => {
    const check = (): void => { if (app.sessions.counts().connected >= options.sessions) resolve() }
    app.sessions.events.on('connected', check)
    app.sessions.events.on('state', check)
  })
  await app.ready()
  if (options.mode === 'restore') {
    await allConnected
    const restoreMs = performance.now() - started
    await app.close()
    return { restoreMs }
  }

  const baselineRss = settledRss()
  for (let index = 0; index < options.sessions; index++) {
    const sessionId = `bench-${index}`
    const connected = new Promise<void>((resolve) => {
      const listener = (event: { sessionId: string }): void => {
        if (event.sessionId !== sessionId) return
        app.sessions.events.off('connected', listener)
        resolve()
      }
      app.sessions.events.on('connected', listener)
    })
    await app.sessions.create(sessionId)
    await control('/scan', { qr: await app.sessions.qr(sessionId), phone: phoneOf(index) })
    await connected
  }
  const rssPerSession = (settledRss() - baselineRss) / options.sessions

  // Credential writes per message: what one send costs the disk.
  const contact = '628999000001'
  await control('/contacts', { phone: contact })
  const connection = app.sessions.connection('bench-0')
  const writesBefore = connection.credentialWrites()
  for (let index = 0; index < options.messages; index++) {
    await connection.sendText(`${contact}@s.whatsapp.net`, `bench message ${index}`)
  }
  const writesPerMessage = (connection.credentialWrites() - writesBefore) / options.messages
  await app.close()
  return { baselineRss, rssPerSession, writesPerMessage }
}

async function runRaw (): Promise<Record<string, number>> {
  const fetchAgent = new Agent({ ca: readFileSync(options.certificateFile, 'utf8') })
  const logger = pino({ level: 'silent' })
  const sockets: WASocket[] = []
  // useMultiFileAuthState writes one file per key it is given and one per credentials save.
  let fileWrites = 0
  const baselineRss = settledRss()
  for (let index = 0; index < options.sessions; index++) {
    const directory = join(options.directory, 'raw', String(index))
    await mkdir(directory, { recursive: true })
    // Baileys' own example wiring: useMultiFileAuthState and a reconnect after the 515.
    const open = async (): Promise<WASocket> => {
      const { state, saveCreds } = await useMultiFileAuthState(directory)
      const keys = state.keys
      const countedKeys: typeof keys = {
        get: async (type, ids) => await keys.get(type, ids),
        set: async (data) => {
          for (const values of Object.values(data)) fileWrites += Object.keys(values ?? {}).length
          await keys.set(data)
        }
      }
      const socket = makeWASocket({
        auth: { creds: state.creds, keys: countedKeys },
        logger,
        waWebSocketUrl: options.simulatorUrl,
        fetchAgent,
        markOnlineOnConnect: false,
        syncFullHistory: false
      })
      socket.ev.on('creds.update', () => {
        fileWrites++
        void saveCreds()
      })
      return socket
    }
    const registering = await open()
    const qr = await new Promise<string>((resolve) => registering.ev.on('connection.update', (update) => { if (update.qr !== undefined) resolve(update.qr) }))
    const restarted = new Promise<void>((resolve) => registering.ev.on('connection.update', (update) => { if (update.connection === 'close') resolve() }))
    await control('/scan', { qr, phone: phoneOf(1000 + index) })
    await restarted
    const socket = await open()
    await new Promise<void>((resolve) => socket.ev.on('connection.update', (update) => { if (update.connection === 'open') resolve() }))
    sockets.push(socket)
  }
  // As the service's RSS is read: no forced GC, after a moment idle.
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const rss = process.memoryUsage().rss
  if (sockets.length === 0) return { rss }
  const rssPerSession = (settledRss() - baselineRss) / options.sessions

  const contact = '628999000002'
  await control('/contacts', { phone: contact })
  const writesBefore = fileWrites
  for (let index = 0; index < options.messages; index++) {
    await sockets[0].sendMessage(`${contact}@s.whatsapp.net`, { text: `bench message ${index}` })
  }
  const writesPerMessage = (fileWrites - writesBefore) / options.messages

  let sends = 0
  const sendsStarted = performance.now()
  while (performance.now() - sendsStarted < options.sequentialSendSeconds * 1000) {
    await sockets[0].sendMessage(`${contact}@s.whatsapp.net`, { text: `bench message ${sends}` })
    sends++
  }
  const sendsPerSecond = sends / ((performance.now() - sendsStarted) / 1000)
  for (const socket of sockets) socket.end(undefined)
  return { baselineRss, rss, rssPerSession, writesPerMessage, sendsPerSecond }
}

const result = options.mode === 'raw' ? await runRaw() : await runService()
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
process.exit(0)

export type { WorkerOptions }
