import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { temporaryDirectory } from '../helper.js'
import { openEmbeddedStateStore } from '../../src/state/embedded-state-store.js'

t.test('kill -9 mid-stream loses no acknowledged write', async (t) => {
  const script = fileURLToPath(new URL('../fixtures/state-writer.ts', import.meta.url))
  for (let round = 0; round < 3; round++) {
    const directory = await temporaryDirectory(t, 'embedded-crash-')
    const dataDirectory = join(directory, 'data')
    const authStateDirectory = join(directory, 'auth_state')
    const child = spawn(process.execPath, ['--import', 'tsx', script, dataDirectory, authStateDirectory], { stdio: ['ignore', 'pipe', 'inherit'] })
    const acknowledged: number[] = []
    let pendingLine = ''
    // Killed at a different point each round, with eight writes in flight.
    const killAfter = 20 + round * 40
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (pendingLine + chunk.toString()).split('\n')
      pendingLine = lines.pop() ?? ''
      for (const line of lines) acknowledged.push(Number(line.replace('acknowledged ', '')))
      if (acknowledged.length >= killAfter) child.kill('SIGKILL')
    })
    const [, signal] = await once(child, 'exit') as [number | null, string | null]
    t.equal(signal, 'SIGKILL', `round ${round}: killed`)
    t.ok(acknowledged.length >= killAfter, `round ${round}: ${acknowledged.length} writes acknowledged before the kill`)

    const store = await openEmbeddedStateStore({ dataDirectory, authStateDirectory, sweepIntervalMs: 0 })
    const missing: string[] = []
    for (const counter of acknowledged) {
      if ((await store.records<{ counter: number }>('otp').get(`628${counter}`))?.counter !== counter) missing.push(`record ${counter}`)
      const keys = await store.authState.readKeys('sales', 'session', [`peer${counter}`])
      if (keys[`peer${counter}`]?.length !== 16 * 1024) missing.push(`key ${counter}`)
    }
    t.same(missing, [], `round ${round}: every acknowledged record and key is there`)
    const stats = await store.webhookDeliveries.stats()
    t.ok(stats.pending >= acknowledged.length, `round ${round}: ${stats.pending} deliveries pending, at least the acknowledged ${acknowledged.length}`)
    const credentials = JSON.parse((await store.authState.readCredentials('sales')) ?? '{}') as { counter?: number }
    // Writes finish out of order, so the last one committed may be any of those in flight: what
    // matters is that it is one whole write.
    t.ok(Number.isInteger(credentials.counter) && credentials.counter! >= 1, `round ${round}: credentials are one whole write (${credentials.counter})`)
    await store.close()
  }
})
