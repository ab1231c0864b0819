import { randomUUID } from 'node:crypto'
import { Redis, ReplyError, type RedisOptions } from 'ioredis'
import {
  assertKeyPart,
  recordKinds,
  InvalidStateKeyError,
  StaleLeaseError,
  StateStoreUnavailableError,
  type ClaimedWebhookDelivery,
  type RecordChanger,
  type RecordCollection,
  type RecordKind,
  type SessionMetadata,
  type StateStore,
  type WebhookDelivery
} from './state-store.js'

export interface RedisStateStoreOptions {
  // REDIS_URL: redis:// or rediss://
  url: string
  // REDIS_KEY_PREFIX: every key starts with it, so deployments can share one Redis.
  keyPrefix?: string
  // The webhook queue's times (next attempts, claim ends) are compared with this clock.
  clock?: () => number
  // Merged over the defaults below.
  redisOptions?: RedisOptions
}

// While Redis is unreachable a call fails at once (no offline queue, one retry) instead of
// waiting: the caller answers 503 and the client reconnects in the background.
const defaultRedisOptions: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true }

export const defaultKeyPrefix = 'wa-otp:'

// Every write that must not interleave with another instance's is one Lua script: Redis runs a
// script alone, so its check and its writes are one step. Records changed by a caller's function
// use compare-and-set instead (read, change in JavaScript, write only if the value is still the
// one read, else read again), which needs no connection of its own, unlike WATCH.
const scripts = {
  compareAndSet: {
    numberOfKeys: 2,
    lua: `
      local current = redis.call('GET', KEYS[1])
      if ARGV[1] == '1' then
        if current ~= ARGV[2] then return 0 end
      elseif current then
        return 0
      end
      if ARGV[3] == '1' then
        if ARGV[5] ~= '0' then
          redis.call('SET', KEYS[1], ARGV[4], 'PXAT', ARGV[5])
        else
          redis.call('SET', KEYS[1], ARGV[4])
        end
        if ARGV[6] ~= '' then redis.call('SADD', KEYS[2], ARGV[6]) end
      else
        redis.call('DEL', KEYS[1])
        if ARGV[6] ~= '' then redis.call('SREM', KEYS[2], ARGV[6]) end
      end
      return 1`
  },
  acquireLease: {
    numberOfKeys: 2,
    lua: `
      local holder = redis.call('HGET', KEYS[1], 'instanceId')
      if holder and holder ~= ARGV[1] then return false end
      local epoch = redis.call('INCR', KEYS[2])
      redis.call('HSET', KEYS[1], 'instanceId', ARGV[1], 'epoch', epoch)
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return epoch`
  },
  renewLease: {
    numberOfKeys: 1,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
      return 1`
  },
  releaseLease: {
    numberOfKeys: 1,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      redis.call('DEL', KEYS[1])
      return 1`
  },
  leaseHolder: {
    numberOfKeys: 1,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if not holder[1] then return false end
      return { holder[1], holder[2], redis.call('PTTL', KEYS[1]) }`
  },
  // KEYS: lease, credentials, categories, then one hash per category written.
  // ARGV: instance, epoch, has credentials, credentials, then per category: name, count, pairs.
  writeAuthState: {
    numberOfKeys: null,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      if ARGV[3] == '1' then redis.call('SET', KEYS[2], ARGV[4]) end
      local argument = 5
      for keyIndex = 4, #KEYS do
        local category = ARGV[argument]
        local count = tonumber(ARGV[argument + 1])
        argument = argument + 2
        redis.call('SADD', KEYS[3], category)
        for _ = 1, count do
          local id = ARGV[argument]
          local value = ARGV[argument + 1]
          argument = argument + 2
          -- Serialized keys are never empty, so '' marks a deletion.
          if value == '' then redis.call('HDEL', KEYS[keyIndex], id) else redis.call('HSET', KEYS[keyIndex], id, value) end
        end
      end
      return 1`
  },
  // KEYS: lease, credentials, categories. ARGV: instance, epoch, prefix of the category hashes.
  // The category hashes are named from the set inside the script: fine on one Redis (not Cluster).
  deleteAuthState: {
    numberOfKeys: 3,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      for _, category in ipairs(redis.call('SMEMBERS', KEYS[3])) do
        redis.call('DEL', ARGV[3] .. category)
      end
      redis.call('DEL', KEYS[2], KEYS[3])
      return 1`
  },
  // KEYS (every webhook script): due (sorted by when visible), deliveries, claims, retrying, counters.
  claimDeliveries: {
    numberOfKeys: 5,
    lua: `
      local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
      local claimed = {}
      for index, id in ipairs(ids) do
        local token = ARGV[4] .. ':' .. index
        redis.call('ZADD', KEYS[1], ARGV[5], id)
        redis.call('HSET', KEYS[3], id, token)
        table.insert(claimed, redis.call('HGET', KEYS[2], id))
        table.insert(claimed, token)
      end
      return claimed`
  },
  settleDelivery: {
    numberOfKeys: 5,
    lua: `
      if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
      redis.call('HDEL', KEYS[3], ARGV[1])
      if ARGV[3] == 'retry' then
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
        redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
        redis.call('SADD', KEYS[4], ARGV[1])
      else
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('SREM', KEYS[4], ARGV[1])
        redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
      end
      return 1`
  }
} satisfies Record<string, { numberOfKeys: number | null, lua: string }>

type ScriptName = keyof typeof scripts
type RedisValue = string | number

// SCAN's pattern treats these as wildcards; a prefix containing them must match literally.
function escapeGlob (text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

export async function openRedisStateStore (options: RedisStateStoreOptions): Promise<StateStore> {
  const prefix = options.keyPrefix ?? defaultKeyPrefix
  const clock = options.clock ?? Date.now
  const redis = new Redis(options.url, { ...defaultRedisOptions, ...options.redisOptions })
  // Reconnection is ioredis' job; an error event without a listener would crash the process.
  redis.on('error', () => {})
  for (const [name, script] of Object.entries(scripts)) {
    redis.defineCommand(name, script.numberOfKeys === null ? { lua: script.lua } : { numberOfKeys: script.numberOfKeys, lua: script.lua })
  }

  // defineCommand adds methods ioredis' types do not know; this is the one place that calls them.
  async function run (name: ScriptName, keys: string[], args: RedisValue[]): Promise<unknown> {
    const command = (redis as unknown as Record<ScriptName, (...parameters: RedisValue[]) => Promise<unknown>>)[name]
    const parameters = scripts[name].numberOfKeys === null ? [keys.length, ...keys, ...args] : [...keys, ...args]
    return await command.apply(redis, parameters)
  }

  const key = (...parts: string[]): string => `${prefix}${parts.join(':')}`
  const sessionIndexKey = key('sessions')
  const webhookKeys = ['due', 'deliveries', 'claims', 'retrying', 'counters'].map((part) => key('webhook', part))
  const leaseKey = (sessionId: string): string => key('lease', sessionId)
  const authKey = (sessionId: string, ...parts: string[]): string => key('auth', sessionId, ...parts)

  function collection<Value> (keyOf: (name: string) => string, indexKey?: string): RecordCollection<Value> {
    return {
      async get (name) {
        const raw = await redis.get(keyOf(name))
        return raw === null ? undefined : JSON.parse(raw) as Value
      },
      async update<Result> (name: string, change: RecordChanger<Value, Result>): Promise<Result> {
        const recordKey = keyOf(name)
        // Each lost race means another instance's write went through, so this always ends.
        for (;;) {
          const raw = await redis.get(recordKey)
          let changed: ReturnType<typeof change>
          try {
            changed = change(raw === null ? undefined : JSON.parse(raw) as Value)
          } catch (error) {
            throw new ChangeError(error)
          }
          const { value, result, expiresAt } = changed
          const removes = value === undefined || (expiresAt !== undefined && expiresAt <= clock())
          const written = await run('compareAndSet', [recordKey, indexKey ?? recordKey], [
            raw === null ? '0' : '1',
            raw ?? '',
            removes ? '0' : '1',
            removes ? '' : JSON.stringify(value),
            // Redis takes whole milliseconds.
            Math.ceil(expiresAt ?? 0),
            indexKey === undefined ? '' : name
          ])
          if (written === 1) return result
        }
      },
      async delete (name) {
        if (indexKey === undefined) {
          await redis.del(keyOf(name))
          return
        }
        await redis.multi().del(keyOf(name)).srem(indexKey, name).exec()
      }
    }
  }

  const recordCollections = new Map<RecordKind, RecordCollection<unknown>>(
    recordKinds.map((kind) => [kind, collection<unknown>((name) => key('record', kind, name))])
  )
  const sessions = collection<SessionMetadata>((sessionId) => key('session', sessionId), sessionIndexKey)

  async function settle (claimed: ClaimedWebhookDelivery, action: 'delivered' | 'failed' | 'retry', nextAttemptAt = 0): Promise<boolean> {
    const { claimToken, ...delivery } = claimed
    const retried: WebhookDelivery = { ...delivery, attempts: delivery.attempts + 1, nextAttemptAt }
    return await run('settleDelivery', webhookKeys, [claimed.id, claimToken, action, JSON.stringify(retried), nextAttemptAt]) === 1
  }

  // Fails when Redis cannot be reached at start, so a wrong REDIS_URL stops the service with a
  // clear message instead of a service that answers 503 to everything.
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    throw new StateStoreUnavailableError(error)
  }

  const store: StateStore = {
    records: <Value>(kind: RecordKind) => {
      const found = recordCollections.get(kind)
      if (found === undefined) throw new Error(`unknown record kind ${kind}`)
      return found as RecordCollection<Value>
    },

    sessions: {
      ...sessions,
      async update (sessionId, change) {
        assertKeyPart('session id', sessionId)
        return await sessions.update(sessionId, change)
      },
      async list () {
        const ids = await redis.smembers(sessionIndexKey)
        if (ids.length === 0) return []
        const values = await redis.mget(ids.map((sessionId) => key('session', sessionId)))
        return values.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as SessionMetadata)
      }
    },

    webhookDeliveries: {
      async enqueue (delivery) {
        const [due, deliveries] = webhookKeys as [string, string]
        await redis.multi().hset(deliveries, delivery.id, JSON.stringify(delivery)).zadd(due, delivery.nextAttemptAt, delivery.id).exec()
      },
      async claim (limit, leaseMs) {
        const now = clock()
        const claimed = await run('claimDeliveries', webhookKeys, [now, limit, leaseMs, randomUUID(), now + leaseMs]) as string[]
        const deliveries: ClaimedWebhookDelivery[] = []
        for (let index = 0; index < claimed.length; index += 2) {
          deliveries.push({ ...JSON.parse(claimed[index] as string) as WebhookDelivery, claimToken: claimed[index + 1] as string })
        }
        return deliveries
      },
      ack: async (claimed) => await settle(claimed, 'delivered'),
      retry: async (claimed, nextAttemptAt) => await settle(claimed, 'retry', nextAttemptAt),
      fail: async (claimed) => await settle(claimed, 'failed'),
      async nextDueAt () {
        const first = await redis.zrange(webhookKeys[0] as string, '0', '0', 'WITHSCORES')
        return first.length === 0 ? undefined : Number(first[1])
      },
      async stats () {
        const [due, , , retrying, counters] = webhookKeys as [string, string, string, string, string]
        const [pending, retryingCount, [delivered, failed]] = await Promise.all([
          redis.zcard(due),
          redis.scard(retrying),
          redis.hmget(counters, 'delivered', 'failed')
        ])
        return { pending, retrying: retryingCount, delivered: Number(delivered ?? 0), failed: Number(failed ?? 0) }
      }
    },

    leases: {
      async acquire (sessionId, instanceId, leaseMs) {
        assertKeyPart('session id', sessionId)
        const epoch = await run('acquireLease', [leaseKey(sessionId), key('lease-epoch', sessionId)], [instanceId, Math.ceil(leaseMs)]) as number | null
        return epoch === null ? undefined : { sessionId, instanceId, epoch }
      },
      async renew (lease, leaseMs) {
        return await run('renewLease', [leaseKey(lease.sessionId)], [lease.instanceId, lease.epoch, Math.ceil(leaseMs)]) === 1
      },
      async release (lease) {
        await run('releaseLease', [leaseKey(lease.sessionId)], [lease.instanceId, lease.epoch])
      },
      async holder (sessionId) {
        const found = await run('leaseHolder', [leaseKey(sessionId)], []) as [string, string, number] | null
        if (found === null) return undefined
        const [instanceId, epoch, millisecondsLeft] = found
        return { sessionId, instanceId, epoch: Number(epoch), expiresAt: clock() + millisecondsLeft }
      }
    },

    instances: {
      async heartbeat (instance, ttlMs) {
        await redis.set(key('instance', instance.instanceId), instance.url, 'PX', Math.max(1, Math.round(ttlMs)))
      },
      async remove (instanceId) {
        await redis.del(key('instance', instanceId))
      },
      async live () {
        const instancePrefix = key('instance', '')
        const keys: string[] = []
        // Expired heartbeats are gone from Redis itself, so whatever SCAN finds is live.
        for await (const batch of redis.scanStream({ match: `${escapeGlob(instancePrefix)}*`, count: 100 })) keys.push(...(batch as string[]))
        if (keys.length === 0) return []
        const urls = await redis.mget(keys)
        return keys.flatMap((instanceKey, index) => {
          const url = urls[index]
          return url === null || url === undefined ? [] : [{ instanceId: instanceKey.slice(instancePrefix.length), url }]
        })
      }
    },

    authState: {
      async readCredentials (sessionId) {
        return (await redis.get(authKey(sessionId, 'credentials'))) ?? undefined
      },
      async readKeys (sessionId, category, ids) {
        assertKeyPart('key category', category)
        const result: Record<string, string> = {}
        if (ids.length === 0) return result
        const values = await redis.hmget(authKey(sessionId, 'keys', category), ...ids)
        ids.forEach((id, index) => {
          const value = values[index]
          if (value !== null && value !== undefined) result[id] = value
        })
        return result
      },
      async write (sessionId, lease, changes) {
        assertKeyPart('session id', sessionId)
        if (sessionId !== lease.sessionId) throw new StaleLeaseError(sessionId, lease.instanceId, lease.epoch)
        const categoryKeys: string[] = []
        const args: RedisValue[] = [lease.instanceId, lease.epoch, changes.credentials === undefined ? '0' : '1', changes.credentials ?? '']
        for (const [category, values] of Object.entries(changes.keys ?? {})) {
          assertKeyPart('key category', category)
          const entries = Object.entries(values)
          categoryKeys.push(authKey(sessionId, 'keys', category))
          args.push(category, entries.length)
          for (const [id, value] of entries) args.push(id, value ?? '')
        }
        const keys = [leaseKey(sessionId), authKey(sessionId, 'credentials'), authKey(sessionId, 'categories'), ...categoryKeys]
        if (await run('writeAuthState', keys, args) !== 1) throw new StaleLeaseError(sessionId, lease.instanceId, lease.epoch)
      },
      async delete (sessionId, lease) {
        assertKeyPart('session id', sessionId)
        if (sessionId !== lease.sessionId) throw new StaleLeaseError(sessionId, lease.instanceId, lease.epoch)
        const keys = [leaseKey(sessionId), authKey(sessionId, 'credentials'), authKey(sessionId, 'categories')]
        const deleted = await run('deleteAuthState', keys, [lease.instanceId, lease.epoch, authKey(sessionId, 'keys', '')])
        if (deleted !== 1) throw new StaleLeaseError(sessionId, lease.instanceId, lease.epoch)
      }
    },

    async close () {
      if (redis.status === 'end') return
      await redis.quit().catch(() => redis.disconnect())
    }
  }
  return {
    ...store,
    records: (kind) => withUnavailableErrors(store.records(kind)),
    sessions: withUnavailableErrors(store.sessions),
    webhookDeliveries: withUnavailableErrors(store.webhookDeliveries),
    leases: withUnavailableErrors(store.leases),
    instances: withUnavailableErrors(store.instances),
    authState: withUnavailableErrors(store.authState)
  }
}

// Carries an error thrown by a caller's change function past the mapping below, unchanged.
class ChangeError {
  constructor (readonly error: unknown) {}
}

// Redis' own answers (ReplyError), our refusals and the caller's errors pass as they are;
// anything else means the connection failed.
function asUnavailable (error: unknown): unknown {
  if (error instanceof ChangeError) return error.error
  if (error instanceof ReplyError || error instanceof StaleLeaseError || error instanceof InvalidStateKeyError) return error
  return new StateStoreUnavailableError(error)
}

function withUnavailableErrors<Methods extends object> (methods: Methods): Methods {
  return Object.fromEntries(Object.entries(methods).map(([name, method]) => [
    name,
    async (...args: unknown[]) => {
      try {
        return await (method as (...parameters: unknown[]) => Promise<unknown>)(...args)
      } catch (error) {
        throw asUnavailable(error)
      }
    }
  ])) as Methods
}
