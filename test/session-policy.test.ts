import t from 'tap'
import { classifyClose } from '../plugins/transport.js'
import { reconnectDelay } from '../plugins/session-registry.js'
import { assertSessionId } from '../src/session-id.js'

t.test('every DisconnectReason maps to the policy DESIGN.md gives it', async (t) => {
  t.equal(classifyClose(515, 'Stream Errored (restart required)'), 'restart-required')
  t.equal(classifyClose(401, 'Connection Failure'), 'logged-out')
  t.equal(classifyClose(440, 'Stream Errored (conflict)'), 'replaced')
  t.equal(classifyClose(408, 'QR refs attempts ended'), 'qr-timeout')
  t.equal(classifyClose(408, 'Connection was lost'), 'connection-lost', '408 without the QR message is a lost connection')
  t.equal(classifyClose(403, 'forbidden'), 'forbidden')
  t.equal(classifyClose(411, 'multi-device mismatch'), 'multidevice-mismatch')
  for (const statusCode of [428, 500, 503, undefined]) {
    t.equal(classifyClose(statusCode, 'whatever'), 'connection-lost', `status ${String(statusCode)} reconnects`)
  }
})

t.test('reconnect delays grow exponentially, are jittered and capped', async (t) => {
  t.equal(reconnectDelay(1, 1000, 60_000, () => 0), 500)
  t.equal(reconnectDelay(1, 1000, 60_000, () => 1), 1000)
  t.equal(reconnectDelay(3, 1000, 60_000, () => 0), 2000)
  t.equal(reconnectDelay(3, 1000, 60_000, () => 1), 4000)
  t.equal(reconnectDelay(20, 1000, 60_000, () => 1), 60_000, 'capped')
  t.equal(reconnectDelay(20, 1000, 60_000, () => 0), 30_000, 'never below half the cap')
  const samples = Array.from({ length: 50 }, () => reconnectDelay(4, 1000, 60_000))
  t.ok(samples.every((delay) => delay >= 4000 && delay <= 8000))
  t.ok(new Set(samples).size > 1, 'jitter spreads sessions apart')
})

t.test('session ids are checked against the documented pattern', async (t) => {
  for (const valid of ['a', 'test-session', 'A_b-9', 'x'.repeat(64)]) t.doesNotThrow(() => assertSessionId(valid), valid)
  for (const invalid of ['', '../x', 'x'.repeat(65), 'a/b', 'a.b', 'a b']) {
    t.throws(() => assertSessionId(invalid), { code: 'SESSION_ID_INVALID', statusCode: 400 }, JSON.stringify(invalid))
  }
})
