import { randomUUID } from 'node:crypto'
import { Redis, ReplyError, type RedisOptions } from 'ioredis'
import {
  assertKeyPart,
  recordKinds,
  InvalidStateKeyError,
  StaleLeaseError,
  StateStoreUnavailableError,
  type ChatOrigin,
  type ClaimedWebhookDelivery,
  type RecordChanger,
  type RecordCollection,
  type RecordKind,
  type SessionMetadata,
  type StateStore,
  type WebhookDelivery
} from './state-store.js'
import { scripts, type ScriptName } from './redis-scripts.js'

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
  const chatsKey = (sessionId: string): string => key('chats', sessionId)

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
          // Absent and staying absent: the read is the answer (see RecordChanger).
          if (raw === null && value === undefined) return result
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

    chats: {
      // Members '<phone>', and '+<phone>' for a chat the number wrote in (its own end).
      async record (sessionId, phone, expiresAt, origin) {
        assertKeyPart('session id', sessionId)
        assertKeyPart('phone number', phone)
        const members = origin === 'contact' ? [phone, `+${phone}`] : [phone]
        return await run('recordChat', [chatsKey(sessionId)], [Math.ceil(expiresAt), clock(), ...members]) === 1
      },
      async sessionsChattingWith (phone, sessionIds) {
        const chatting = new Map<string, ChatOrigin>()
        if (sessionIds.length === 0) return chatting
        const pipeline = redis.pipeline()
        for (const sessionId of sessionIds) pipeline.zmscore(chatsKey(sessionId), phone, `+${phone}`)
        const answers = await pipeline.exec() ?? []
        const now = clock()
        sessionIds.forEach((sessionId, index) => {
          const [error, scores] = answers[index] ?? [null, null]
          if (error !== null) throw error
          const [any, contact] = (scores as Array<string | null>).map((score) => score !== null && Number(score) > now)
          if (contact === true) chatting.set(sessionId, 'contact')
          else if (any === true) chatting.set(sessionId, 'account')
        })
        return chatting
      },
      async forgetSession (sessionId) {
        assertKeyPart('session id', sessionId)
        await redis.del(chatsKey(sessionId))
      }
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
      async extend (claimed, leaseMs) {
        return await run('extendClaim', webhookKeys, [claimed.id, claimed.claimToken, clock() + leaseMs]) === 1
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
    chats: withUnavailableErrors(store.chats),
    sessions: withUnavailableErrors(store.sessions),
    webhookDeliveries: withUnavailableErrors(store.webhookDeliveries),
    leases: withUnavailableErrors(store.leases),
    instances: withUnavailableErrors(store.instances),
    authState: withUnavailableErrors(store.authState)
  }
}

// Carries an error thrown by a caller's change function past the mapping below, unchanged.
class ChangeError {
  constructor (readonly cause: unknown) {}
}

// Redis' own answers (ReplyError), our refusals and the caller's errors pass as they are;
// anything else means the connection failed.
function asUnavailable (error: unknown): unknown {
  if (error instanceof ChangeError) return error.cause
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
