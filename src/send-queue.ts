import { setTimeout as delay } from 'node:timers/promises'
import { errors, withRetryAfter } from './errors.js'

export interface SendQueueOptions {
  sessionId: string
  // Jobs allowed to wait behind the running one; more are refused instead of held in memory.
  maxPending: number
  // Least time between the starts of two sends. A burst of messages from one account is what
  // gets WhatsApp numbers flagged, so sends are spaced even when they are ready sooner.
  minGapMs: number
  // Longest a job may wait for its start. The caller is an HTTP request: held longer, it times
  // out at a proxy or client while its message is still sent, so it is refused at once instead.
  maxWaitMs: number
  clock?: () => number
  // Resolves after `milliseconds`, or rejects when `signal` aborts; replaceable so tests need no real waiting.
  wait?: (milliseconds: number, signal: AbortSignal) => Promise<unknown>
}

export interface SendQueue {
  run<Result>(job: () => Promise<Result>): Promise<Result>
  waitingCount(): number
  // `refusal`: what the waiting jobs are refused with (SEND_QUEUE_CLOSED unless told otherwise).
  close(refusal?: () => Error): Promise<void>
}

interface WaitingJob {
  job: () => Promise<unknown>
  // A job whose turn comes later than this is refused: it waited longer than allowed.
  startBy: number
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

export function createSendQueue (options: SendQueueOptions): SendQueue {
  const { sessionId, maxPending, minGapMs, maxWaitMs } = options
  const clock = options.clock ?? Date.now
  const wait = options.wait ?? ((milliseconds, signal) => delay(milliseconds, undefined, { signal }))
  const waiting: WaitingJob[] = []
  const closing = new AbortController()
  let busy = false
  // True while the next job, already taken off the list, waits out the gap before its start.
  let nextWaitingForGap = false
  let lastStartAt = Number.NEGATIVE_INFINITY
  let draining: Promise<void> = Promise.resolve()
  let refusal = (): Error => new errors.SEND_QUEUE_CLOSED(sessionId)

  // How long a job added now would wait for its start: the rest of the current gap, then one
  // gap for each job ahead of it. A lower bound when sends take longer than the gap.
  function expectedWaitMs (): number {
    const jobsAhead = waiting.length + (nextWaitingForGap ? 1 : 0)
    return Math.max(0, lastStartAt + minGapMs - clock()) + jobsAhead * minGapMs
  }

  // The Retry-After of a refusal is the time the jobs already queued need to start, so clients
  // told to come back are spread over the real backlog instead of returning all at once.
  function queueFull (waitMs: number): Error {
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000))
    return withRetryAfter(new errors.SEND_QUEUE_FULL(sessionId, retryAfterSeconds), retryAfterSeconds)
  }

  function run<Result> (job: () => Promise<Result>): Promise<Result> {
    if (closing.signal.aborted) return Promise.reject(refusal())
    const waitMs = expectedWaitMs()
    if ((busy && waiting.length >= maxPending) || waitMs > maxWaitMs) return Promise.reject(queueFull(waitMs))
    return new Promise<Result>((resolve, reject) => {
      waiting.push({ job, startBy: clock() + maxWaitMs, resolve: resolve as (value: unknown) => void, reject })
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
        nextWaitingForGap = true
        try {
          await wait(gap, closing.signal)
        } catch {
          // Aborted by close: this job never started; it is refused below.
        }
        nextWaitingForGap = false
      }
      if (closing.signal.aborted) {
        next.reject(refusal())
        break
      }
      // Sends that took longer than the gap can make a job miss the start its admission expected.
      if (clock() > next.startBy) {
        next.reject(queueFull(expectedWaitMs()))
        continue
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
  async function close (refuseWith = refusal): Promise<void> {
    refusal = refuseWith
    closing.abort()
    for (const refused of waiting.splice(0)) refused.reject(refusal())
    await draining
  }

  return { run, waitingCount: () => waiting.length, close }
}
