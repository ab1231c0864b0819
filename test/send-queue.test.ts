import t from 'tap'
import { createSendQueue, type SendQueueOptions } from '../src/send-queue.js'

// A clock that only moves when the queue waits, so gaps are exact and nothing really sleeps.
function fakeTime () {
  let now = 1_000_000
  const waits: number[] = []
  return {
    clock: () => now,
    advance (milliseconds: number) { now += milliseconds },
    waits,
    async wait (milliseconds: number) {
      waits.push(milliseconds)
      now += milliseconds
    },
  }
}

function deferred<Value = void> () {
  let resolveDeferred!: (value: Value) => void
  let rejectDeferred!: (reason: unknown) => void
  const promise = new Promise<Value>((resolve, reject) => {
    resolveDeferred = resolve
    rejectDeferred = reject
  })
  return { promise, resolve: resolveDeferred, reject: rejectDeferred }
}

function setup (t: { teardown(callback: () => unknown): void }, overrides: Partial<SendQueueOptions> = {}) {
  const time = fakeTime()
  const queue = createSendQueue({ sessionId: 'toko', maxPending: 3, minGapMs: 1000, maxWaitMs: 60_000, clock: time.clock, wait: time.wait, ...overrides })
  t.teardown(() => queue.close())
  return { time, queue }
}

t.test('a flood gets exactly maxPending waiting plus the running one, and those all complete in order', async t => {
  const { time, queue } = setup(t)
  const started: Array<{ index: number, at: number }> = []
  const results = Array.from({ length: 10 }, (_, index) =>
    queue.run(async () => {
      started.push({ index, at: time.clock() })
      return `message ${index}`
    }))
  t.equal(queue.waitingCount(), 3)
  const settled = await Promise.allSettled(results)

  const accepted = settled.flatMap(result => result.status === 'fulfilled' ? [result.value] : [])
  t.same(accepted, ['message 0', 'message 1', 'message 2', 'message 3'])
  t.same(started.map(start => start.index), [0, 1, 2, 3])
  for (const result of settled.slice(4)) {
    t.match(result, {
      status: 'rejected',
      reason: {
        code: 'SEND_QUEUE_FULL',
        statusCode: 429,
        // The running send's gap and the three waiting: the real time until a place frees up is
        // not one second for each of them.
        retryAfterSeconds: 4,
        message: 'Antrian pengiriman session toko penuh, coba lagi dalam 4 detik',
      },
    })
  }
  t.same(started.map(start => start.at - started[0].at), [0, 1000, 2000, 3000], 'starts are one gap apart')
  t.equal(queue.waitingCount(), 0)
})

t.test('only one job runs at a time', async t => {
  const { queue } = setup(t, { minGapMs: 0 })
  const first = deferred()
  let secondStarted = false
  const firstResult = queue.run(() => first.promise)
  const secondResult = queue.run(async () => { secondStarted = true })
  await new Promise(resolve => setImmediate(resolve))
  t.equal(secondStarted, false, 'the second waits while the first runs')
  first.resolve()
  await firstResult
  await secondResult
  t.equal(secondStarted, true)
})

t.test('a job that took longer than the gap is followed at once', async t => {
  const { time, queue } = setup(t)
  await queue.run(async () => { time.advance(1500) })
  await queue.run(async () => {})
  t.same(time.waits, [], 'no waiting needed')
  time.advance(400)
  await queue.run(async () => {})
  t.same(time.waits, [600], 'only the rest of the gap is waited')
})

t.test('a failed job does not stop the ones behind it', async t => {
  const { queue } = setup(t)
  const failing = queue.run(async () => { throw new Error('WhatsApp said no') })
  const throwingSynchronously = queue.run(() => { throw new Error('not even a promise') })
  const next = queue.run(async () => 'sent')
  await t.rejects(failing, /WhatsApp said no/)
  await t.rejects(throwingSynchronously, /not even a promise/)
  t.equal(await next, 'sent')
})

t.test('the wait before retrying grows with the gap', async t => {
  const { queue } = setup(t, { maxPending: 0, minGapMs: 4500 })
  const running = deferred()
  const first = queue.run(() => running.promise)
  await t.rejects(queue.run(async () => {}), { code: 'SEND_QUEUE_FULL', retryAfterSeconds: 5 })
  running.resolve()
  await first
})

t.test('a job that could not start within maxWaitMs is refused at once, with the real wait as Retry-After', async t => {
  const { time, queue } = setup(t, { maxPending: 100, maxWaitMs: 2500 })
  const started: number[] = []
  const accepted = [0, 1, 2].map(index => queue.run(async () => { started.push(time.clock()); return index }))
  // Three are queued: the running one, one gap behind it, two gaps behind it. A fourth would
  // start three seconds from now, past the bound.
  const refusedAt = time.clock()
  t.equal(queue.waitingCount(), 2)
  await t.rejects(queue.run(async () => 'late'), {
    code: 'SEND_QUEUE_FULL',
    statusCode: 429,
    retryAfterSeconds: 3,
    message: 'Antrian pengiriman session toko penuh, coba lagi dalam 3 detik',
  })
  t.same(await Promise.all(accepted), [0, 1, 2])
  t.same(started.map(at => at - refusedAt), [0, 1000, 2000], 'every accepted job started within the bound')
  t.same(await queue.run(async () => 'after the backlog'), 'after the backlog', 'a drained queue accepts again')
})

t.test('a job whose turn comes after maxWaitMs, because sends were slow, is refused instead of started', async t => {
  const { time, queue } = setup(t, { maxPending: 100, minGapMs: 1000, maxWaitMs: 2500 })
  let lateStarted = false
  // Admitted when its expected wait was one gap, but the send ahead takes five seconds.
  const slowSend = deferred()
  const slow = queue.run(async () => { await slowSend.promise; time.advance(5000); return 'slow' })
  const late = queue.run(async () => { lateStarted = true })
  slowSend.resolve()
  t.equal(await slow, 'slow')
  await t.rejects(late, { code: 'SEND_QUEUE_FULL', statusCode: 429 })
  t.equal(lateStarted, false)
  t.equal(await queue.run(async () => 'next'), 'next', 'the queue goes on')
})

t.test('close refuses the waiting jobs and resolves when the running one ends', async t => {
  const { queue } = setup(t)
  const running = deferred<string>()
  const first = queue.run(() => running.promise)
  const waitingJobs = [queue.run(async () => 'never'), queue.run(async () => 'never')]
  let closed = false
  const closing = queue.close().then(() => { closed = true })

  for (const job of waitingJobs) {
    await t.rejects(job, {
      code: 'SEND_QUEUE_CLOSED',
      statusCode: 503,
      message: 'Session toko sedang ditutup, pesan tidak dikirim',
    })
  }
  await new Promise(resolve => setImmediate(resolve))
  t.equal(closed, false, 'still waiting for the running send')
  running.resolve('sent')
  t.equal(await first, 'sent', 'the running send is not cut off')
  await closing
  t.equal(closed, true)
  await t.rejects(queue.run(async () => 'late'), { code: 'SEND_QUEUE_CLOSED' }, 'nothing is accepted after close')
  await t.resolves(queue.close(), 'closing twice is harmless')
})

t.test('close interrupts a job waiting out its gap (real timers)', async t => {
  const queue = createSendQueue({ sessionId: 'toko', maxPending: 3, minGapMs: 600_000, maxWaitMs: 3_600_000 })
  await queue.run(async () => {})
  let secondStarted = false
  const second = queue.run(async () => { secondStarted = true })
  await new Promise(resolve => setImmediate(resolve))
  // Without the abort this would hang for ten minutes and time the test out.
  await queue.close()
  await t.rejects(second, { code: 'SEND_QUEUE_CLOSED' })
  t.equal(secondStarted, false)
})

t.test('a wait that ignores the abort still does not start the job', async t => {
  const gate = deferred()
  const queue = createSendQueue({ sessionId: 'toko', maxPending: 3, minGapMs: 1000, maxWaitMs: 60_000, wait: () => gate.promise })
  await queue.run(async () => {})
  let secondStarted = false
  const second = queue.run(async () => { secondStarted = true })
  const closing = queue.close()
  gate.resolve()
  await closing
  await t.rejects(second, { code: 'SEND_QUEUE_CLOSED' })
  t.equal(secondStarted, false)
})

t.test('closing an idle queue resolves at once', async t => {
  const { queue } = setup(t)
  await t.resolves(queue.close())
})
