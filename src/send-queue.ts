import { setTimeout as delay } from 'node:timers/promises'
import { errors } from './errors.js'

export interface SendQueueOptions {
  sessionId: string
  // Jobs allowed to wait behind the running one; more are refused instead of held in memory.
  maxPending: number
  // Least time between the starts of two sends. A burst of messages from one account is what
  // gets WhatsApp numbers flagged, so sends are spaced even when they are ready sooner.
  minGapMs: number
  clock?: () => number
  // Resolves after `milliseconds`, or rejects when `signal` aborts; replaceable so tests need no real waiting.
  wait?: (milliseconds: number, signal: AbortSignal) => Promise<unknown>
}

export interface SendQueue {
  run<Result>(job: () => Promise<Result>): Promise<Result>
  waitingCount(): number
  close(): Promise<void>
}

interface WaitingJob {
  job: () => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

export function createSendQueue (options: SendQueueOptions): SendQueue {
  const { sessionId, maxPending, minGapMs } = options
  const clock = options.clock ?? Date.now
  const wait = options.wait ?? ((milliseconds, signal) => delay(milliseconds, undefined, { signal }))
  const waiting: WaitingJob[] = []
  const closing = new AbortController()
  let busy = false
  let lastStartAt = Number.NEGATIVE_INFINITY
  let draining: Promise<void> = Promise.resolve()

  // A slot frees when the next waiting job starts, which is at least one gap away.
  const retryAfterSeconds = Math.max(1, Math.ceil(minGapMs / 1000))

  function run<Result> (job: () => Promise<Result>): Promise<Result> {
    if (closing.signal.aborted) return Promise.reject(new errors.SEND_QUEUE_CLOSED(sessionId))
    if (busy && waiting.length >= maxPending) {
      return Promise.reject(Object.assign(new errors.SEND_QUEUE_FULL(sessionId, retryAfterSeconds), { retryAfterSeconds }))
    }
    return new Promise<Result>((resolve, reject) => {
      waiting.push({ job, resolve: resolve as (value: unknown) => void, reject })
      // drain takes the job off the list synchronously, so an idle queue's first job is the
      // running one at once and does not use up a waiting place.
      if (!busy) draining = drain()
    })
  }

  async function drain (): Promise<void> {
    busy = true
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) {
      const gap = lastStartAt + minGapMs - clock()
      if (gap > 0) {
        try {
          await wait(gap, closing.signal)
        } catch {
          // Aborted by close: this job never started; close rejects it below with the others.
        }
      }
      if (closing.signal.aborted) {
        next.reject(new errors.SEND_QUEUE_CLOSED(sessionId))
        break
      }
      lastStartAt = clock()
      try {
        next.resolve(await next.job())
      } catch (error) {
        // One failed send is its caller's business; the messages behind it still go out.
        next.reject(error)
      }
    }
    busy = false
  }

  // Waiting jobs are refused at once; the one already sending is let finish, so a message
  // WhatsApp may have accepted is never reported as failed.
  async function close (): Promise<void> {
    closing.abort()
    for (const refused of waiting.splice(0)) refused.reject(new errors.SEND_QUEUE_CLOSED(sessionId))
    await draining
  }

  return { run, waitingCount: () => waiting.length, close }
}
