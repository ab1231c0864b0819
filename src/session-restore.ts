import type { EventEmitter } from 'node:events'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { SessionEventMap } from './events.js'
import { isSessionId } from './session-id.js'
import type { SessionStorage } from './session-storage.js'
import type { Session } from './session.js'

// One instance (no REDIS_URL): the sessions in AUTH_STATE_DIR whose devices are linked, except
// those `known` already. The folders of devices that never linked (the service stopped while they
// waited for a scan) are deleted, unless a session of that id was created meanwhile.
export async function linkedSessionFolders (
  authStateDirectory: string,
  storage: Pick<SessionStorage, 'hasLinkedCredentials'>,
  logger: Logger,
  known: (sessionId: string) => boolean
): Promise<string[]> {
  const entries = await readdir(authStateDirectory, { withFileTypes: true }).catch(() => [])
  const folders = entries
    .filter((entry) => entry.isDirectory() && isSessionId(entry.name) && !known(entry.name))
    .map((entry) => entry.name)
  // Read together, not one after another: the service answers only once the listing is done,
  // and with hundreds of sessions a read after another delays its first answer.
  const linked = await Promise.all(folders.map(async (sessionId) => await storage.hasLinkedCredentials(sessionId)))
  for (const [index, sessionId] of folders.entries()) {
    if (linked[index] || known(sessionId)) continue
    await rm(join(authStateDirectory, sessionId), { recursive: true, force: true })
    logger.info({ sessionId }, 'removed the folder of a session that never linked')
  }
  return folders.filter((_sessionId, index) => linked[index])
}

// Opens the sockets of sessions found at start in the background, a few at a time, so a host
// with many sessions does not open every socket in the same instant and the API answers
// meanwhile (503 with Retry-After for these).
export interface RestoreQueueOptions {
  events: EventEmitter<SessionEventMap>
  logger: Logger
  concurrency: number
  // How long a worker waits for one login before it starts the next.
  loginTimeoutMs: number
  // Opens the session's socket (under its lock), unless it went away or the service is closing.
  open: (session: Session) => Promise<void>
  closing: () => boolean
}

export interface RestoreQueue {
  run: (queue: Session[]) => void
  progress: () => { total: number, done: number, pending: number }
  // Ends the workers' waits for logins at once and resolves when they stopped.
  stop: () => Promise<void>
}

export function createRestoreQueue (options: RestoreQueueOptions): RestoreQueue {
  const { events, logger } = options
  const progress = { total: 0, done: 0 }
  const stopWaits = new Set<() => void>()
  let running: Promise<void> = Promise.resolve()

  // Resolves when the session's login ends, either way, or after the timeout; the listeners are
  // set before the login starts, so no outcome is missed.
  function loginSettled (sessionId: string): { wait: () => Promise<void>, cancel: () => void } {
    let finish: () => void = () => {}
    const done = new Promise<void>((resolve) => { finish = resolve })
    const onEvent = (event: { sessionId: string }): void => { if (event.sessionId === sessionId) finish() }
    events.on('connected', onEvent)
    events.on('disconnected', onEvent)
    const timer = setTimeout(finish, options.loginTimeoutMs)
    const cancel = (): void => {
      clearTimeout(timer)
      events.off('connected', onEvent)
      events.off('disconnected', onEvent)
      finish()
    }
    stopWaits.add(cancel)
    return { wait: async () => await done, cancel: () => { stopWaits.delete(cancel); cancel() } }
  }

  return {
    run (queue) {
      progress.total += queue.length
      const worker = async (): Promise<void> => {
        // Opening a socket is a burst of synchronous work; yielding before each one lets requests
        // waiting in the event loop (the first ones right after start, too) go first.
        for (let session = queue.shift(); session !== undefined && !options.closing(); session = queue.shift()) {
          await new Promise((resolve) => setImmediate(resolve))
          if (options.closing()) break
          const queued = session
          // A socket is created at once but logs in afterwards: the next one starts when this
          // one is open or closed, so no more than `concurrency` handshakes run together.
          const settled = loginSettled(queued.id)
          await options.open(queued).catch((error: unknown) => logger.error({ sessionId: queued.id, err: error }, 'restoring the session failed'))
          if (queued.status === 'connecting') await settled.wait()
          settled.cancel()
          progress.done++
        }
      }
      const started = Date.now()
      const total = queue.length
      const workers = Promise.all(Array.from({ length: Math.min(options.concurrency, queue.length) }, worker)).then(() => {
        logger.info({ restored: total, ms: Date.now() - started }, 'sessions restored')
      })
      // Runs add up (sessions taken over from other instances come in several rounds).
      running = Promise.all([running, workers]).then(() => {})
    },
    progress: () => ({ total: progress.total, done: progress.done, pending: progress.total - progress.done }),
    async stop () {
      for (const stop of stopWaits) stop()
      await running
    }
  }
}
