import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.js'
import { openEmbeddedStateStore } from '../src/state/embedded-state-store.js'
import type { StateStore } from '../src/state/state-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    // Everything the service must not forget: embedded in DATA_DIR, or shared on Redis.
    stateStore: StateStore
  }
}

export type StateStoreConfig = Pick<Config, 'redisUrl' | 'redisKeyPrefix' | 'dataDirectory'>

// One place decides which store runs: REDIS_URL set means several instances share one Redis.
export async function openStateStore (config: StateStoreConfig): Promise<StateStore> {
  if (config.redisUrl !== undefined) {
    // Loaded only here: the Redis client is slow to load and a single instance never needs it.
    const { openRedisStateStore } = await import('../src/state/redis-state-store.js')
    return await openRedisStateStore({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix })
  }
  // One process keeps credentials in AUTH_STATE_DIR's session folders (src/auth-state-files.ts);
  // the embedded store's own credentials file stays in DATA_DIR, out of the folder list restored.
  return await openEmbeddedStateStore({ dataDirectory: config.dataDirectory, authStateDirectory: config.dataDirectory })
}

async function stateStorePlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const store = await openStateStore(config)
  fastify.decorate('stateStore', store)
  // A read of a record nobody writes: it fails exactly when a request needing the store would.
  fastify.healthChecks.add('stateStore', async () => {
    const kind = config.redisUrl === undefined ? 'embedded' : 'redis'
    try {
      await store.records('otp').get('health-probe')
      return { status: 'ok', kind }
    } catch (error) {
      return { status: 'degraded', kind, error: (error as Error).message }
    }
  })
  // Closed after every plugin registered later has flushed its last writes (onClose runs in reverse).
  fastify.addHook('onClose', async () => {
    await store.close()
  })
}

export default fp(stateStorePlugin, { name: 'state-store', fastify: '5.x', dependencies: ['health'] })
