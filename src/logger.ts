import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { finished } from 'node:stream/promises'
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify'
import { pino, type Bindings, type ChildLoggerOptions, type Logger, type DestinationStream, type LogFn } from 'pino'
import { createStream, type RotatingFileStream } from 'rotating-file-stream'
import type { Config } from './config.js'

export interface Loggers {
  app: Logger
  // The one line per request: the app log's destination and level, without redaction (below).
  requests: Logger
  whatsapp: Logger
  flush: () => Promise<void>
  close: () => Promise<void>
}

type LogFileConfig = Pick<Config, 'logDirectory' | 'logLevel' | 'whatsappLogLevel' | 'logFileMaxBytes' | 'logFileCount'>

interface LogFile {
  stream: DestinationStream
  flush: () => Promise<void>
  close: () => Promise<void>
}

// Short enough for anyone tailing the log, long enough that a busy second is a handful of writes.
const logBatchIntervalMs = 50

// What may wait in memory for a slow or stuck disk (or a stdout nobody reads) before lines are
// dropped: without a bound, a disk that stops keeping up takes the process's memory with it, one
// line per request. Dropped lines are counted in a line of their own once writes go out again.
export const logPendingMaxBytes = 16 * 1024 * 1024

// Writes go to the file in the background (never blocking the event loop) and the file is
// rotated by size, logrotate style: app.log, app.log.1 … app.log.<count>.
// The WhatsApp library may still log from a task that outlives the socket: after the service has
// closed its logs, such a line no longer reaches the file (only the mirror) instead of crashing
// the process.
// `mirror` (stdout) gets every batch too: one write per batch instead of one per line, and no
// second pino destination to feed each line to.
function rotatingLogFile (config: LogFileConfig, name: string, mirror?: DestinationStream): LogFile {
  const file: RotatingFileStream = createStream(name, {
    path: config.logDirectory,
    size: `${config.logFileMaxBytes}B`,
    rotate: config.logFileCount
  })
  let open = true
  // rotating-file-stream awaits one file write per chunk it is given: a line per chunk under load
  // costs a thread-pool round trip per request, and so did a chunk per turn of the event loop
  // (two writes, file and stdout, every few requests). Lines go out together once per
  // logBatchIntervalMs, or at once when a batch reaches its size, small beside the rotation size
  // so a file still ends near its limit. Shutdown flushes what is left.
  const batchMaxBytes = Math.min(64 * 1024, Math.floor(config.logFileMaxBytes / 16))
  let batch: string[] = []
  let batchBytes = 0
  let batchScheduled = false
  let droppedLines = 0
  // `final`: the last batch at a flush or close goes out whatever waits, with the count of what was
  // dropped: it is one batch at most.
  const writeBatch = (final = false): void => {
    batchScheduled = false
    if (batch.length === 0 && (!final || droppedLines === 0)) return
    if (!final && file.writableLength >= logPendingMaxBytes) {
      droppedLines += batch.length
    } else {
      const notice = droppedLines === 0 ? '' : droppedLinesNotice(droppedLines)
      droppedLines = 0
      const chunk = notice + batch.join('')
      file.write(chunk)
      mirror?.write(chunk)
    }
    batch = []
    batchBytes = 0
  }
  const append = (line: string): void => {
    if (!open) {
      mirror?.write(line)
      return
    }
    batch.push(line)
    batchBytes += line.length
    if (batchBytes >= batchMaxBytes) writeBatch()
    else if (!batchScheduled) {
      batchScheduled = true
      setTimeout(writeBatch, logBatchIntervalMs)
    }
  }
  // A write's callback runs once it and every write before it reached the file.
  const written = async (): Promise<void> => { await new Promise<void>((resolve) => file.write('', () => { resolve() })) }
  return {
    stream: { write: append },
    flush: async () => {
      if (!open) return
      writeBatch(true)
      await written()
    },
    close: async () => {
      if (!open) return
      writeBatch(true)
      open = false
      file.end()
      await finished(file)
    }
  }
}

// Built here, in pino's line format, not logged through pino: a line through the logger would join
// the batch that may itself be dropped.
function droppedLinesNotice (count: number): string {
  return JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, hostname: hostname(), msg: `${count} log lines dropped: the log file did not keep up` }) + '\n'
}

// Secrets can arrive in headers or in bodies a handler chooses to log; pino removes these paths
// before anything is written. OTP and pairing codes are named by their own paths: a wildcard
// `*.code` would also blank `err.code` (ENOENT, FST_…), which every error report needs.
const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  'code',
  'otp',
  'otpCode',
  'pairingCode',
  'body.code',
  'data.code',
  'payload.code',
  'payload.data.code',
  '*.otp',
  '*.pairingCode',
  'secret',
  '*.secret'
]

const loggedPathMaxLength = 200

// A query string can carry an API key (`?api_key=`) or a signed qr-link token, and a URL can be
// kilobytes long: logs keep the path only, cut to a length worth reading.
export function pathForLog (url: string): string {
  const path = url.split('?')[0] ?? ''
  return path.length > loggedPathMaxLength ? `${path.slice(0, loggedPathMaxLength)}…` : path
}

const requestSerializer = (request: { method: string, url: string, hostname?: string, ip?: string }) => ({
  method: request.method,
  path: pathForLog(request.url),
  host: request.hostname,
  remoteAddress: request.ip
})

const answeredErrorCodes = new WeakMap<FastifyReply, string>()

// The error handler names the error code a reply answers with, so the request's one line says
// what went wrong without a second line.
export function logAnsweredErrorCode (reply: FastifyReply, errorCode: string): void {
  answeredErrorCodes.set(reply, errorCode)
}

// Fastify's own request lines are two per request and carry the raw URL, query string and all:
// this writes one line when the answer is sent, with the path only (and the error code, if any).
// Answers the router gives before the request's lifecycle starts (frameworkErrors) never reach
// Fastify's call of requestCompleted: src/app.ts calls it for them.
export class RequestLogController extends LogController {
  // `requests` writes the line of an answered request; an errored one goes through the request's
  // own logger, redaction and all, since it carries the error.
  constructor (private readonly requests: Logger) {
    super()
  }

  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      path: pathForLog(request.url),
      statusCode: reply.statusCode,
      responseTimeMs: Math.round(reply.elapsedTime),
      errorCode: answeredErrorCodes.get(reply)
    }
    if (error === null || error === undefined) this.requests.info({ reqId: request.id, ...line }, 'request completed')
    else reply.log.error({ ...line, err: error }, 'request errored')
  }

  override routeNotFound (request: FastifyRequest): void {
    request.log.info({ method: request.method, path: pathForLog(request.url) }, 'route not found')
  }
}

// Fastify makes a child logger for every request, yet a request that goes well never logs through
// it (its one line is the controller's): the child is made the first time it is used. Its methods
// live on the prototype, so a request costs one small object and no closures.
class RequestLogger implements FastifyBaseLogger {
  #logger: Logger | undefined

  constructor (private readonly parent: Logger, private readonly bindings: Bindings, private readonly options: ChildLoggerOptions) {}

  private get logger (): Logger {
    this.#logger ??= this.parent.child(this.bindings, this.options)
    return this.#logger
  }

  get level (): string { return this.logger.level }
  set level (level: string) { this.logger.level = level }
  fatal (...args: Parameters<LogFn>): void { this.logger.fatal(...args) }
  error (...args: Parameters<LogFn>): void { this.logger.error(...args) }
  warn (...args: Parameters<LogFn>): void { this.logger.warn(...args) }
  info (...args: Parameters<LogFn>): void { this.logger.info(...args) }
  debug (...args: Parameters<LogFn>): void { this.logger.debug(...args) }
  trace (...args: Parameters<LogFn>): void { this.logger.trace(...args) }
  silent (...args: Parameters<LogFn>): void { this.logger.silent(...args) }
  child (bindings: Bindings, options?: ChildLoggerOptions): Logger { return this.logger.child(bindings, options) }
}

// Fastify's `childLoggerFactory`.
export function requestLoggerFactory (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger as Logger, bindings, options)
}

export function createLoggers (config: LogFileConfig, options: { stdout?: boolean } = {}): Loggers {
  mkdirSync(config.logDirectory, { recursive: true })
  const stdout = options.stdout === false ? undefined : pino.destination({ dest: 1, sync: false, maxLength: logPendingMaxBytes })
  const appFile = rotatingLogFile(config, 'app.log', stdout)
  const whatsappFile = rotatingLogFile(config, 'whatsapp-service.log')

  const app = pino({
    level: config.logLevel,
    redact: { paths: redactedPaths, censor: '[Redacted]' },
    serializers: { req: requestSerializer }
  }, appFile.stream)
  // The request line's fields are fixed and carry nothing secret (its path has no query string),
  // so it skips the redaction paths, which pino checks against every key of every line.
  const requests = app.child({}, { redact: { paths: [] } })
  const whatsapp = pino({ level: config.whatsappLogLevel, redact: { paths: redactedPaths, censor: '[Redacted]' } }, whatsappFile.stream)

  return {
    app,
    requests,
    whatsapp,
    flush: async () => {
      await appFile.flush()
      await whatsappFile.flush()
    },
    close: async () => {
      await appFile.close()
      await whatsappFile.close()
      stdout?.flushSync()
    }
  }
}
