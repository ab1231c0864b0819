import t from 'tap'
import { join } from 'node:path'
import { temporaryDirectory } from '../helper.js'
import { openEmbeddedStateStore } from '../../src/state/embedded-state-store.js'
import { stateStoreConformance } from './conformance.js'

stateStoreConformance(t, async (t) => {
  const directory = await temporaryDirectory(t, 'embedded-state-')
  let now = Date.UTC(2026, 0, 1)
  return {
    open: async () => {
      const store = await openEmbeddedStateStore({ dataDirectory: join(directory, 'data'), authStateDirectory: join(directory, 'auth_state'), clock: () => now, sweepIntervalMs: 0 })
      t.teardown(() => store.close())
      return store
    },
    now: () => now,
    advance: async (milliseconds) => { now += milliseconds },
    shortTtlMs: 1000
  }
})
