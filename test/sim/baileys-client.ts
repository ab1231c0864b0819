// Test helper: raw Baileys sockets against the simulator, and "link a socket and wait until open".
import makeWASocket, {
  DisconnectReason,
  useMultiFileAuthState,
  type ConnectionState,
  type UserFacingSocketConfig,
  type WASocket,
} from '@whiskeysockets/baileys'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WhatsAppSimulator } from './index.js'

type Logger = NonNullable<UserFacingSocketConfig['logger']>

/** Baileys wants a pino-like logger; tests want silence unless SIM_BAILEYS_LOG=1. */
function testLogger (bindings: Record<string, unknown> = {}): Logger {
  const print = process.env.SIM_BAILEYS_LOG === '1'
  const write = (level: string) => (object: unknown, message?: string) => {
    if (print) console.error(`[baileys ${level}]`, JSON.stringify(bindings), message ?? '', JSON.stringify(object)?.slice(0, 600))
  }
  return {
    level: print ? 'debug' : 'silent',
    child: (more) => testLogger({ ...bindings, ...more }),
    trace: () => {},
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  } as Logger
}

/**
 * The socket options that point Baileys at the simulator: its URL, trust of the media host's
 * self-signed certificate (Baileys uploads with node:https on Node, passing `fetchAgent` as the
 * request agent), and short timeouts so failures show up in seconds.
 */
export function simulatorSocketOptions (simulator: WhatsAppSimulator): Partial<UserFacingSocketConfig> {
  return {
    waWebSocketUrl: simulator.url,
    fetchAgent: new Agent({ ca: simulator.mediaCertificate }),
    logger: testLogger(),
    printQRInTerminal: false,
    connectTimeoutMs: 5000,
    defaultQueryTimeoutMs: 5000,
    keepAliveIntervalMs: 30000,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    // shouldSyncHistoryMessage stays Baileys' default, as in the service: the simulated phone
    // sends the initial history sync after the first login, which ends Baileys' event buffering.
  }
}

export interface BaileysClient {
  socket: WASocket;
  authDirectory: string;
  /** Resolves when the socket closes, with lastDisconnect's status code and message. */
  closed: Promise<{ statusCode: number | undefined; message: string | undefined }>;
}

/** Opens a Baileys socket on the auth state saved in authDirectory (created empty if new). */
export async function openBaileysSocket (
  simulator: WhatsAppSimulator,
  authDirectory: string,
  overrides: Partial<UserFacingSocketConfig> = {}
): Promise<BaileysClient> {
  const { state, saveCreds } = await useMultiFileAuthState(authDirectory)
  const socket = makeWASocket({ ...simulatorSocketOptions(simulator), auth: state, ...overrides })
  // Chain the writes, so a caller reading the directory after close sees the last creds.
  let saving = Promise.resolve()
  socket.ev.on('creds.update', () => {
    saving = saving.then(saveCreds)
  })
  const closed = new Promise<{ statusCode: number | undefined; message: string | undefined }>((resolve) => {
    socket.ev.on('connection.update', (update) => {
      if (update.connection !== 'close') return
      // A socket closed before the offline notification (a rejected login) still buffers events
      // and holds a 30 s timer; flushing releases it.
      socket.ev.flush()
      const error = update.lastDisconnect?.error as { output?: { statusCode?: number }; message?: string } | undefined
      void saving.then(() => resolve({ statusCode: error?.output?.statusCode, message: error?.message }))
    })
  })
  return { socket, authDirectory, closed }
}

/** Resolves with the first connection.update matching the predicate. */
export function waitForConnectionUpdate (
  socket: WASocket,
  predicate: (update: Partial<ConnectionState>) => boolean,
  timeoutMs = 10000
): Promise<Partial<ConnectionState>> {
  return new Promise((resolve, reject) => {
    const listener = (update: Partial<ConnectionState>) => {
      if (!predicate(update)) return
      clearTimeout(timer)
      socket.ev.off('connection.update', listener)
      resolve(update)
    }
    const timer = setTimeout(() => {
      socket.ev.off('connection.update', listener)
      reject(new Error(`no matching connection.update within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.ev.on('connection.update', listener)
  })
}

export async function newAuthDirectory (): Promise<string> {
  return mkdtemp(join(tmpdir(), 'wa-sim-auth-'))
}

export interface LinkedBaileysClient extends BaileysClient {
  phone: string;
}

/**
 * The whole first-link flow, as a phone owner does it: QR shown, phone scans, WhatsApp asks for a
 * restart (515), a new socket logs in with the saved credentials and opens.
 */
export async function linkBaileysSocket (
  simulator: WhatsAppSimulator,
  options: { phone: string; authDirectory?: string; overrides?: Partial<UserFacingSocketConfig> }
): Promise<LinkedBaileysClient> {
  const authDirectory = options.authDirectory ?? (await newAuthDirectory())
  const registering = await openBaileysSocket(simulator, authDirectory, options.overrides)
  const { qr } = await waitForConnectionUpdate(registering.socket, (update) => !!update.qr)
  await simulator.scanQr(qr!, { phone: options.phone })
  const restart = await registering.closed
  if (restart.statusCode !== DisconnectReason.restartRequired) {
    throw new Error(`expected a 515 restart after the scan, got ${restart.statusCode} ${restart.message}`)
  }
  const client = await openBaileysSocket(simulator, authDirectory, options.overrides)
  await waitForConnectionUpdate(client.socket, (update) => update.connection === 'open')
  return { ...client, phone: options.phone }
}

/** Ends a socket without logging out and removes its auth directory. */
export async function closeBaileysClient (client: BaileysClient): Promise<void> {
  client.socket.end(undefined)
  await client.closed
  // Baileys may still be writing key files right after the close.
  await rm(client.authDirectory, { recursive: true, force: true, maxRetries: 5 })
}
