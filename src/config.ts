import { isIP } from 'node:net'
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import proxyAddress from '@fastify/proxy-addr'
import { appNameMaxLength, isValidAppName, validateOtpTemplate } from './otp-message.js'
import { assertWebhookEvents } from './webhook-dispatcher.js'
import { parseVersionSetting, type VersionSetting } from './whatsapp-version.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  port: number
  host: string
  apiKeys: string[]
  allowRemoteWithoutApiKey: boolean
  // false, true (every hop), or the proxies' addresses and CIDR ranges (see readTrustProxy).
  trustProxy: boolean | string[]
  publicUrl: string | undefined
  // Shared state on Redis (several instances); unset: the embedded store in DATA_DIR.
  redisUrl: string | undefined
  redisKeyPrefix: string
  instanceId: string
  instanceUrl: string
  // Signs calls one instance forwards to another: INSTANCE_SECRET, or the first API key.
  instanceSecret: string | undefined
  sessionLeaseMs: number
  authStateDirectory: string
  logDirectory: string
  logFileMaxBytes: number
  logFileCount: number
  dataDirectory: string
  logLevel: LogLevel
  whatsappLogLevel: LogLevel
  whatsappWebSocketUrl: string | undefined
  whatsappExtraCaFile: string | undefined
  whatsappKeepAliveMs: number
  whatsappConnectTimeoutMs: number
  whatsappQueryTimeoutMs: number
  whatsappSendAckTimeoutMs: number
  whatsappVersion: VersionSetting
  whatsappVersionUrl: string
  whatsappVersionTimeoutMs: number
  whatsappQrTimeoutMs: number | undefined
  rateLimitMax: number
  rateLimitWindowMs: number
  bodyLimitBytes: number
  sessionRestoreConcurrency: number
  sessionMaxPending: number
  sessionMax: number
  sessionUnlinkedTtlMs: number
  reconnectMaxAttempts: number
  reconnectBaseDelayMs: number
  reconnectMaxDelayMs: number
  sendMinGapMs: number
  sendQueueMax: number
  sendMaxWaitMs: number
  otpLength: number
  otpTtlSeconds: number
  otpMaxAttempts: number
  otpCooldownSeconds: number
  otpMaxPerHour: number
  otpTemplate: string | undefined
  otpAppName: string | undefined
  otpSecret: string | undefined
  otpExposeCode: boolean
  otpInboundReply: string | undefined
  mediaMaxBytes: number
  webhookUrls: string[]
  webhookSecret: string | undefined
  webhookEvents: string[] | 'all'
}

export class ConfigError extends Error {
  constructor (variable: string, expected: string, received: string) {
    super(`Invalid configuration: ${variable} must be ${expected} (got "${received}")`)
    this.name = 'ConfigError'
  }
}

type Environment = Record<string, string | undefined>

const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

// One reader per kind of value: each names the variable in its error, so a bad deployment
// stops at start with a line that says exactly what to fix.
function readRaw (environment: Environment, name: string): string | undefined {
  const value = environment[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function readVersionSetting (environment: Environment): VersionSetting {
  const raw = readRaw(environment, 'WA_VERSION') ?? 'auto'
  const setting = parseVersionSetting(raw)
  if (setting === undefined) throw new ConfigError('WA_VERSION', '"auto", "bundled" or a version like 2.3000.1043857760', raw)
  return setting
}

function readInteger (environment: Environment, name: string, fallback: number, minimum: number, maximum: number): number {
  const raw = readRaw(environment, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^-?\d+$/.test(raw) || value < minimum || value > maximum) {
    throw new ConfigError(name, `an integer from ${minimum} to ${maximum}`, raw)
  }
  return value
}

function readBoolean (environment: Environment, name: string, fallback: boolean): boolean {
  const raw = readRaw(environment, name)
  if (raw === undefined) return fallback
  const lower = raw.toLowerCase()
  if (['true', '1', 'yes'].includes(lower)) return true
  if (['false', '0', 'no'].includes(lower)) return false
  throw new ConfigError(name, 'true or false', raw)
}

function readLogLevel (environment: Environment, name: string, fallback: LogLevel): LogLevel {
  const raw = readRaw(environment, name)
  if (raw === undefined) return fallback
  if (!(logLevels as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `one of ${logLevels.join(', ')}`, raw)
  }
  return raw as LogLevel
}

function readUrl (environment: Environment, name: string, protocols: string[]): string | undefined {
  const raw = readRaw(environment, name)
  if (raw === undefined) return undefined
  return parseUrl(name, raw, protocols)
}

function parseUrl (name: string, raw: string, protocols: string[]): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, `a URL starting with ${protocols.join(' or ')}//`, raw)
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `a URL starting with ${protocols.join(' or ')}//`, raw)
  }
  return raw
}

function readList (environment: Environment, name: string): string[] {
  const raw = readRaw(environment, name)
  if (raw === undefined) return []
  return raw.split(',').map((item) => item.trim()).filter((item) => item !== '')
}

const durationUnits: Record<string, number> = {
  '': 1,
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000
}

// RATE_LIMIT_WINDOW accepts what people write: "60000", "500ms", "60s", "30 seconds", "1 minute", "1h".
// Every unit is spelt out in the table, so "60s" can never be read as a plural of "6" plus nothing.
function readDuration (environment: Environment, name: string, fallbackMs: number): number {
  const raw = readRaw(environment, name)
  if (raw === undefined) return fallbackMs
  const match = /^(\d+)\s*([a-z]*)$/i.exec(raw)
  const unit = match === null ? undefined : durationUnits[(match[2] ?? '').toLowerCase()]
  const value = match === null ? 0 : Number(match[1])
  if (unit === undefined || value === 0 || !Number.isSafeInteger(value * unit)) {
    throw new ConfigError(name, 'a positive duration such as 60000, 500ms, 60s, 5m, 1h, "30 seconds" or "1 minute"', raw)
  }
  return value * unit
}

// A template without {code}, or with a misspelt placeholder, would send useless messages:
// better to refuse it at start.
function readOtpTemplate (environment: Environment): string | undefined {
  const template = readRaw(environment, 'OTP_TEMPLATE')
  if (template === undefined) return undefined
  try {
    validateOtpTemplate(template)
  } catch (error) {
    throw new ConfigError('OTP_TEMPLATE', `a usable template (${(error as Error).message})`, JSON.stringify(template).slice(1, -1))
  }
  return template
}

// Whom to believe about the client's address in X-Forwarded-For. A list of the proxies' addresses
// is the safe setting: a client that reaches the port directly is not in it, so its header is
// ignored. Entries are checked with the parser Fastify itself uses, so what starts is what runs.
// A hop count is refused: Fastify 5 ignores it (it cannot tell the proxy from a direct client),
// so accepting it would silently put every caller in the proxy's rate-limit bucket.
function readTrustProxy (environment: Environment): boolean | string[] {
  const name = 'TRUST_PROXY'
  const expected = 'true or false, or a comma-separated list of proxy addresses and CIDR ranges such as "127.0.0.1,172.16.0.0/12"'
  const raw = readRaw(environment, name)
  if (raw === undefined) return false
  const lower = raw.toLowerCase()
  if (['true', '1', 'yes'].includes(lower)) return true
  if (['false', '0', 'no'].includes(lower)) return false
  if (/^\d+$/.test(raw)) {
    throw new ConfigError(name, `${expected}; a hop count is not supported because it cannot tell the proxy from a direct client`, raw)
  }
  const addresses = raw.split(',').map((item) => item.trim()).filter((item) => item !== '')
  try {
    if (addresses.length === 0) throw new Error('no address given')
    proxyAddress.compile(addresses)
  } catch (error) {
    throw new ConfigError(name, `${expected} (${(error as Error).message})`, raw)
  }
  return addresses
}

// The same rule as a request's appName: one short line, no link (see src/otp-message.ts).
function readOtpAppName (environment: Environment): string | undefined {
  const appName = readRaw(environment, 'OTP_APP_NAME')
  if (appName === undefined || isValidAppName(appName)) return appName
  throw new ConfigError('OTP_APP_NAME', `one line of 1-${appNameMaxLength} letters, digits, spaces and . , & ' ( ) + ! _ - (no line breaks, no links)`, JSON.stringify(appName).slice(1, -1))
}

function isLoopback (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

export function loadConfig (environment: Environment = process.env): Config {
  const host = readRaw(environment, 'HOST') ?? '127.0.0.1'
  const apiKeys = readList(environment, 'API_KEY')
  const allowRemoteWithoutApiKey = readBoolean(environment, 'ALLOW_NO_API_KEY', false)
  if (apiKeys.length === 0 && !isLoopback(host) && !allowRemoteWithoutApiKey) {
    throw new ConfigError('API_KEY', 'set when HOST is not a loopback address (or set ALLOW_NO_API_KEY=true to run open on purpose)', '')
  }
  const shortKey = apiKeys.find((key) => key.length < 16)
  if (shortKey !== undefined) {
    throw new ConfigError('API_KEY', 'one or more keys of at least 16 characters, comma-separated', `${shortKey.slice(0, 2)}…`)
  }
  const webhookEventsRaw = readList(environment, 'WEBHOOK_EVENTS')
  try {
    assertWebhookEvents(webhookEventsRaw.filter((name) => name !== 'all'))
  } catch (error) {
    throw new ConfigError('WEBHOOK_EVENTS', `"all" or a comma-separated list of events (${(error as Error).message})`, readRaw(environment, 'WEBHOOK_EVENTS') ?? '')
  }
  const webhookUrls = readList(environment, 'WEBHOOK_URL').map((url) => parseUrl('WEBHOOK_URL', url, ['http:', 'https:']))
  const otpSecret = readRaw(environment, 'OTP_SECRET')
  if (otpSecret !== undefined && otpSecret.length < 16) {
    throw new ConfigError('OTP_SECRET', 'at least 16 characters', '…')
  }
  // Instances on one Redis share no disk, so none can keep the secret in DATA_DIR; and keeping it
  // in Redis beside the HMACs would let anyone who reads Redis recover every code.
  if (otpSecret === undefined && readRaw(environment, 'REDIS_URL') !== undefined) {
    throw new ConfigError('OTP_SECRET', 'set to the same secret of at least 16 characters on every instance when REDIS_URL is set', '')
  }

  const port = readInteger(environment, 'PORT', 3000, 0, 65535)
  const instanceId = readRaw(environment, 'INSTANCE_ID') ?? `${hostname()}-${randomBytes(3).toString('hex')}`
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(instanceId)) {
    throw new ConfigError('INSTANCE_ID', '1-100 letters, digits, dots, dashes or underscores', instanceId)
  }

  const instanceSecret = readRaw(environment, 'INSTANCE_SECRET') ?? apiKeys[0]
  if (instanceSecret !== undefined && instanceSecret.length < 16) {
    throw new ConfigError('INSTANCE_SECRET', 'at least 16 characters', '…')
  }
  const redisUrl = readUrl(environment, 'REDIS_URL', ['redis:', 'rediss:'])
  // Without a secret an instance could not tell a forwarded call from a client pretending to be one.
  if (redisUrl !== undefined && instanceSecret === undefined) {
    throw new ConfigError('INSTANCE_SECRET', 'set (or API_KEY set) when REDIS_URL is set, the same on every instance', '')
  }

  return {
    port,
    host,
    apiKeys,
    allowRemoteWithoutApiKey,
    trustProxy: readTrustProxy(environment),
    publicUrl: readUrl(environment, 'PUBLIC_URL', ['http:', 'https:']),
    redisUrl,
    redisKeyPrefix: readRaw(environment, 'REDIS_KEY_PREFIX') ?? 'wa-otp:',
    instanceId,
    instanceUrl: readUrl(environment, 'INSTANCE_URL', ['http:', 'https:']) ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    // Renewed every third of it: a holder that cannot renew twice in a row still closes in time.
    instanceSecret,
    sessionLeaseMs: readDuration(environment, 'SESSION_LEASE_MS', 15_000),
    authStateDirectory: resolve(readRaw(environment, 'AUTH_STATE_DIR') ?? 'auth_state'),
    logDirectory: resolve(readRaw(environment, 'LOG_DIR') ?? 'logs'),
    logFileMaxBytes: readInteger(environment, 'LOG_FILE_MAX_BYTES', 10_485_760, 1024, 1_073_741_824),
    logFileCount: readInteger(environment, 'LOG_FILE_COUNT', 5, 1, 100),
    dataDirectory: resolve(readRaw(environment, 'DATA_DIR') ?? 'data'),
    logLevel: readLogLevel(environment, 'LOG_LEVEL', 'info'),
    whatsappLogLevel: readLogLevel(environment, 'WA_LOG_LEVEL', 'warn'),
    whatsappWebSocketUrl: readUrl(environment, 'WA_WEB_SOCKET_URL', ['ws:', 'wss:']),
    whatsappExtraCaFile: readRaw(environment, 'WA_EXTRA_CA_FILE'),
    whatsappKeepAliveMs: readInteger(environment, 'WA_KEEP_ALIVE_MS', 30_000, 1000, 600_000),
    whatsappConnectTimeoutMs: readInteger(environment, 'WA_CONNECT_TIMEOUT_MS', 20_000, 1000, 600_000),
    whatsappQueryTimeoutMs: readInteger(environment, 'WA_QUERY_TIMEOUT_MS', 60_000, 1000, 600_000),
    // WhatsApp's server answers a message stanza within a second or two; past this the send failed.
    whatsappSendAckTimeoutMs: readInteger(environment, 'WA_SEND_ACK_TIMEOUT_MS', 15_000, 100, 600_000),
    whatsappVersion: readVersionSetting(environment),
    whatsappVersionUrl: readUrl(environment, 'WA_VERSION_URL', ['http:', 'https:']) ?? 'https://web.whatsapp.com/sw.js',
    // Short: the service starts with the bundled version rather than wait on a slow network.
    whatsappVersionTimeoutMs: readInteger(environment, 'WA_VERSION_TIMEOUT_MS', 3000, 100, 60_000),
    whatsappQrTimeoutMs: readRaw(environment, 'WA_QR_TIMEOUT_MS') === undefined ? undefined : readInteger(environment, 'WA_QR_TIMEOUT_MS', 60_000, 1000, 600_000),
    rateLimitMax: readInteger(environment, 'RATE_LIMIT_MAX', 100, 1, 1_000_000),
    rateLimitWindowMs: readDuration(environment, 'RATE_LIMIT_WINDOW', 60_000),
    bodyLimitBytes: readInteger(environment, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600),
    // Measured (bench:scale, 50 sessions, 2 cores): 2 connects them all as fast as 4 or 8, and
    // keeps requests answering meanwhile; each login's handshake is a burst of synchronous crypto,
    // and more of them at once only queue requests behind them.
    sessionRestoreConcurrency: readInteger(environment, 'SESSION_RESTORE_CONCURRENCY', 2, 1, 64),
    sessionMaxPending: readInteger(environment, 'SESSION_MAX_PENDING', 20, 1, 10_000),
    sessionMax: readInteger(environment, 'SESSION_MAX', 1000, 1, 100_000),
    sessionUnlinkedTtlMs: readDuration(environment, 'SESSION_UNLINKED_TTL', 10 * 60_000),
    reconnectMaxAttempts: readInteger(environment, 'RECONNECT_MAX_ATTEMPTS', 10, 1, 1000),
    reconnectBaseDelayMs: readInteger(environment, 'RECONNECT_BASE_DELAY_MS', 1000, 1, 600_000),
    reconnectMaxDelayMs: readInteger(environment, 'RECONNECT_MAX_DELAY_MS', 60_000, 1, 3_600_000),
    sendMinGapMs: readInteger(environment, 'SEND_MIN_GAP_MS', 1000, 0, 60_000),
    sendQueueMax: readInteger(environment, 'SEND_QUEUE_MAX', 100, 1, 100_000),
    // Well under the 60 s that proxies and HTTP clients commonly wait for an answer.
    sendMaxWaitMs: readInteger(environment, 'SEND_MAX_WAIT_MS', 20_000, 0, 600_000),
    otpLength: readInteger(environment, 'OTP_LENGTH', 6, 4, 10),
    otpTtlSeconds: readInteger(environment, 'OTP_TTL_SECONDS', 300, 30, 86_400),
    otpMaxAttempts: readInteger(environment, 'OTP_MAX_ATTEMPTS', 5, 1, 100),
    otpCooldownSeconds: readInteger(environment, 'OTP_COOLDOWN_SECONDS', 60, 0, 86_400),
    otpMaxPerHour: readInteger(environment, 'OTP_MAX_PER_HOUR', 5, 1, 10_000),
    otpTemplate: readOtpTemplate(environment),
    otpAppName: readOtpAppName(environment),
    otpSecret,
    otpExposeCode: readBoolean(environment, 'OTP_EXPOSE_CODE', false),
    otpInboundReply: readRaw(environment, 'OTP_INBOUND_REPLY'),
    mediaMaxBytes: readInteger(environment, 'MEDIA_MAX_BYTES', 16 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    webhookUrls,
    webhookSecret: readRaw(environment, 'WEBHOOK_SECRET'),
    webhookEvents: webhookEventsRaw.length === 0 || webhookEventsRaw.includes('all') ? 'all' : webhookEventsRaw
  }
}
