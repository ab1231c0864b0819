// The health checks' runner, without Fastify: the endpoint's answer is in errors.test.ts (a check
// that throws), the plugins' own tests (what each check reports) and health-schema.test.ts (that
// the schema names every field the checks return).
import t from 'tap'
import { createHealthChecks } from '../plugins/health.js'
import type { StateStoreCheck } from '../schemas/system.js'

t.test('one degraded check degrades the whole; a check that throws counts as degraded', async (t) => {
  const checks = createHealthChecks()
  checks.add('sessions', () => ({ status: 'ok', connected: 2 }))
  checks.add('stateStore', async () => ({ status: 'ok', kind: 'embedded' }))
  t.same(await checks.run(), { status: 'ok', checks: { sessions: { status: 'ok', connected: 2 }, stateStore: { status: 'ok', kind: 'embedded' } } })
  checks.add('webhooks', async () => { throw new Error('queue unreadable') })
  const result = await checks.run()
  t.equal(result.status, 'degraded')
  t.same(result.checks.webhooks, { status: 'degraded', error: 'queue unreadable' })
  t.same(Object.keys(result.checks), ['sessions', 'stateStore', 'webhooks'], 'in the order they were added')
  // A synchronous check is called without a promise around it: its throw is caught all the same.
  checks.add('counters', () => { throw new Error('counters unreadable') })
  const withThrow = await checks.run()
  t.same(withThrow.checks.counters, { status: 'degraded', error: 'counters unreadable' })
  t.same(Object.keys(withThrow.checks), ['sessions', 'stateStore', 'webhooks', 'counters'], 'still in the order they were added')
  t.throws(() => { checks.add('sessions', () => ({ status: 'ok' })) }, /health check sessions is already registered/)
})

t.test('the checks run at the same time: one waiting does not hold back the others', async (t) => {
  const checks = createHealthChecks()
  let secondStarted!: () => void
  const started = new Promise<void>((resolve) => { secondStarted = resolve })
  // Run one after the other, the first would wait for the second forever; the timer only keeps a
  // broken runner from hanging the test, and reports it as degraded.
  let timer: NodeJS.Timeout | undefined
  checks.add('stateStore', async (): Promise<StateStoreCheck> => await Promise.race([
    started.then(() => ({ status: 'ok' as const })),
    new Promise<StateStoreCheck>((resolve) => { timer = setTimeout(() => { resolve({ status: 'degraded', error: 'ran alone' }) }, 2000) })
  ]))
  checks.add('sessions', () => {
    secondStarted()
    return { status: 'ok' }
  })
  t.teardown(() => { clearTimeout(timer) })
  t.same(await checks.run(), { status: 'ok', checks: { stateStore: { status: 'ok' }, sessions: { status: 'ok' } } })
})
