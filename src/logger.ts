import { mkdirSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { pino, type Logger, type DestinationStream } from 'pino'
import type { Config } from './config.js'

export interface Loggers {
  app: Logger
  whatsapp: Logger
  flush: () => Promise<void>
  close: () => Promise<void>
}

type FileDestination = ReturnType<typeof pino.destination>

// The WhatsApp library may still log from a task that outlives the socket: after the service has
// closed its logs, such a line is dropped instead of crashing the process.
function closableStream (destination: FileDestination): { stream: DestinationStream, close: () => void } {
  let open = true
  return {
    stream: { write: (line: string) => { if (open) destination.write(line) } },
    close: () => { open = false }
  }
}

// An async destination opens its file in the background; flushing before that throws.
async function flushDestination (destination: FileDestination): Promise<void> {
  if ((destination as unknown as { fd: number }).fd < 0) await once(destination, 'ready')
  destination.flushSync()
}

// Secrets can arrive in headers, in a qr-link's query string, or in request bodies that a
// handler chooses to log; pino removes these paths before anything is written.
const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  'code',
  'otp',
  '*.code',
  '*.otp',
  'secret',
  '*.secret'
]

// Request URLs may carry a signed qr-link token: keep the path, mask the token.
function maskUrl (url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1[Redacted]')
}

const requestSerializer = (request: { method: string, url: string, hostname?: string, ip?: string, socket?: { remotePort?: number } }) => ({
  method: request.method,
  url: maskUrl(request.url),
  host: request.hostname,
  remoteAddress: request.ip
})

export function createLoggers (config: Pick<Config, 'logDirectory' | 'logLevel' | 'whatsappLogLevel'>, options: { stdout?: boolean } = {}): Loggers {
  mkdirSync(config.logDirectory, { recursive: true })
  const appFile = pino.destination({ dest: join(config.logDirectory, 'app.log'), mkdir: true, sync: false })
  const whatsappFile = pino.destination({ dest: join(config.logDirectory, 'whatsapp-service.log'), mkdir: true, sync: false })
  const appFileStream = closableStream(appFile)
  const whatsappFileStream = closableStream(whatsappFile)
  const appStreams: Array<{ stream: DestinationStream }> = [{ stream: appFileStream.stream }]
  if (options.stdout !== false) appStreams.push({ stream: process.stdout })

  const app = pino({
    level: config.logLevel,
    redact: { paths: redactedPaths, censor: '[Redacted]' },
    serializers: { req: requestSerializer }
  }, pino.multistream(appStreams))
  const whatsapp = pino({ level: config.whatsappLogLevel, redact: { paths: redactedPaths, censor: '[Redacted]' } }, whatsappFileStream.stream)

  return {
    app,
    whatsapp,
    flush: async () => {
      await flushDestination(appFile)
      await flushDestination(whatsappFile)
    },
    close: async () => {
      appFileStream.close()
      whatsappFileStream.close()
      for (const destination of [appFile, whatsappFile]) {
        await flushDestination(destination)
        destination.end()
      }
    }
  }
}
