import type { Logger } from 'pino'

// libsignal, the WhatsApp library's encryption, reports through `console` and passes whole
// session records as arguments: "Closing session: SessionEntry { … privKey: <Buffer …> }" reached
// stdout. Its calls are recognised by the file that made them: their leading text goes to the
// WhatsApp log at debug, their objects nowhere. Every other console call is left as it was.
const libsignalSource = /[\\/]node_modules[\\/]libsignal[\\/]/
const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const

const loggers: Logger[] = []
let installed = false

function callerLine (skipped: (...args: unknown[]) => void): string {
  const previousLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 1
  const trace: { stack?: string } = {}
  Error.captureStackTrace(trace, skipped)
  Error.stackTraceLimit = previousLimit
  return trace.stack?.split('\n')[1] ?? ''
}

function install (): void {
  for (const method of consoleMethods) {
    const original = console[method].bind(console)
    const routed = (...args: unknown[]): void => {
      if (!libsignalSource.test(callerLine(routed))) {
        original(...args)
        return
      }
      const text = typeof args[0] === 'string' ? args[0] : 'libsignal reported an object'
      loggers.at(-1)?.debug({ source: 'libsignal', consoleMethod: method }, text)
    }
    console[method] = routed
  }
  installed = true
}

// Returns the release for the plugin's onClose. Once installed the routing stays: with no
// logger left, libsignal's lines are dropped, which is never a leak.
export function routeLibsignalConsole (logger: Logger): () => void {
  if (!installed) install()
  loggers.push(logger)
  return () => {
    const index = loggers.lastIndexOf(logger)
    if (index >= 0) loggers.splice(index, 1)
  }
}
