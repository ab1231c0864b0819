import t from 'tap'
import { setTimeout as delay } from 'node:timers/promises'
import { openRedisStateStore } from '../../src/state/redis-state-store.js'
import { stateStoreConformance } from './conformance.js'
import { startRedisServer } from './redis-server.js'

stateStoreConformance(t, async (t) => {
  const server = await startRedisServer(t)
  return {
    open: async () => {
      const store = await openRedisStateStore({ url: server.url })
      t.teardown(() => store.close())
      return store
    },
    now: Date.now,
    // Redis expires keys on its own clock: the time has to pass for real.
    advance: async (milliseconds) => { await delay(milliseconds) },
    shortTtlMs: 40
  }
})
