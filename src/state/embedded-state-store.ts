import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import {
  assertKeyPart,
  recordKinds,
  StaleLeaseError,
  type InstanceInfo,
  type Lease,
  type RecordChanger,
  type RecordCollection,
  type RecordKind,
  type SessionMetadata,
  type StateStore
} from './state-store.js'
import { createEmbeddedChatStore } from './embedded-chat-store.js'
import { openEmbeddedWebhookQueue } from './embedded-webhook-queue.js'

// lmdb: every write below is one LMDB transaction. Its promise resolves once it is committed,
// and a process killed at any moment after that finds it on the next open; one killed earlier
// finds none of it, never a part. lmdb flushes to disk just after the commit (overlappingSync),
// so a power cut can only lose the last few milliseconds, never corrupt the file. Transactions
// are serialized (LMDB's writer lock), which makes the read-modify-write of `update` atomic
// without any lock of ours.

export interface EmbeddedStateStoreOptions {
  // DATA_DIR: records, sessions, webhook deliveries, leases.
  dataDirectory: string
  // AUTH_STATE_DIR: credentials and signal keys, beside the session folders they replace.
  authStateDirectory: string
  clock?: () => number
  // How often expired records are removed from disk; reads ignore them anyway. 0 turns it off.
  sweepIntervalMs?: number
}

export interface EmbeddedStateStore extends StateStore {
  // Removes expired records, leases' ends stay (their epochs must keep growing).
  deleteExpired: () => Promise<number>
}

export const stateFileName = 'state.mdb'
export const authStateFileName = 'credentials.mdb'

interface StoredRecord { value: unknown, expiresAt: number | null }
interface StoredLease { instanceId: string, epoch: number, expiresAt: number }
interface StoredInstance { url: string, expiresAt: number }

function openEnvironment (path: string): RootDatabase {
  // One file plus its lock file, not a folder: a folder in AUTH_STATE_DIR would look like a session.
  return open({ path, noSubdir: true, maxDbs: 16, encoding: 'msgpack' })
}

export async function openEmbeddedStateStore (options: EmbeddedStateStoreOptions): Promise<EmbeddedStateStore> {
  const clock = options.clock ?? Date.now
  await mkdir(options.dataDirectory, { recursive: true, mode: 0o700 })
  await mkdir(options.authStateDirectory, { recursive: true, mode: 0o700 })
  const state = openEnvironment(join(options.dataDirectory, stateFileName))
  const auth = openEnvironment(join(options.authStateDirectory, authStateFileName))

  const recordDatabases = new Map<RecordKind, Database<StoredRecord, string>>(
    recordKinds.map((kind) => [kind, state.openDB<StoredRecord, string>({ name: `record:${kind}` })])
  )
  const sessionDatabase = state.openDB<StoredRecord, string>({ name: 'sessions' })
  // `<session>/<phone>` -> when the chat is forgotten.
  const chatDatabase = state.openDB<number, string>({ name: 'chats' })
  const leaseDatabase = state.openDB<StoredLease, string>({ name: 'leases' })
  const instanceDatabase = state.openDB<StoredInstance, string>({ name: 'instances' })
  const credentialDatabase = auth.openDB<string, string>({ name: 'credentials' })
  const keyDatabase = auth.openDB<string, string>({ name: 'keys' })

  let closed = false
  function assertOpen (): void {
    if (closed) throw new Error('state store is closed')
  }

  function collection<Value> (database: Database<StoredRecord, string>): RecordCollection<Value> {
    function live (key: string): Value | undefined {
      const stored = database.get(key)
      if (stored === undefined || (stored.expiresAt !== null && stored.expiresAt <= clock())) return undefined
      return stored.value as Value
    }
    return {
      async get (key) {
        assertOpen()
        return live(key)
      },
      async update<Result> (key: string, change: RecordChanger<Value, Result>): Promise<Result> {
        assertOpen()
        return await database.transaction(() => {
          const { value, result, expiresAt } = change(live(key))
          if (value === undefined || (expiresAt !== undefined && expiresAt <= clock())) database.removeSync(key)
          else database.putSync(key, { value, expiresAt: expiresAt ?? null })
          return result
        })
      },
      async delete (key) {
        assertOpen()
        await database.remove(key)
      }
    }
  }

  const sessions = collection<SessionMetadata>(sessionDatabase)

  function leaseIsLive (sessionId: string, lease: Lease): boolean {
    const stored = leaseDatabase.get(sessionId)
    return stored !== undefined && stored.instanceId === lease.instanceId && stored.epoch === lease.epoch && stored.expiresAt > clock()
  }

  function keyPrefix (sessionId: string): string {
    return `${sessionId}/`
  }

  // A pass goes through each database in chunks, each chunk removed in its own short transaction
  // (rechecked there: a record updated since the read stays), with a turn of the event loop between
  // chunks. One transaction over everything blocked the process for 265 ms at 100,000 records,
  // every minute.
  const sweepChunkSize = 500
  async function removeExpired<Value> (
    database: Database<Value, string>,
    isExpired: (value: Value, now: number) => boolean
  ): Promise<number> {
    let removed = 0
    let after: string | undefined
    while (true) {
      // close() may come between two chunks.
      if (closed) break
      const chunk = [...database.getRange({ start: after, exclusiveStart: after !== undefined, limit: sweepChunkSize })]
      if (chunk.length === 0) break
      after = chunk[chunk.length - 1]!.key
      const now = clock()
      const expired = chunk.filter(({ value }) => isExpired(value, now)).map(({ key }) => key)
      if (expired.length > 0) {
        removed += await database.transaction(() => {
          let count = 0
          for (const key of expired) {
            const value = database.get(key)
            if (value !== undefined && isExpired(value, clock())) {
              database.removeSync(key)
              count++
            }
          }
          return count
        })
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    return removed
  }

  async function deleteExpired (): Promise<number> {
    let removed = 0
    for (const database of recordDatabases.values()) {
      removed += await removeExpired(database, (value, now) => value.expiresAt !== null && value.expiresAt <= now)
    }
    removed += await removeExpired(chatDatabase, (forgetAt, now) => forgetAt <= now)
    await removeExpired(instanceDatabase, (value, now) => value.expiresAt <= now)
    return removed
  }

  const chats = createEmbeddedChatStore(chatDatabase, { assertOpen, clock })
  const webhookDeliveries = openEmbeddedWebhookQueue(state, { assertOpen, clock })

  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000
  const sweepTimer = sweepIntervalMs > 0 ? setInterval(() => { deleteExpired().catch(() => {}) }, sweepIntervalMs) : undefined
  // A pending sweep must not keep the process alive.
  sweepTimer?.unref()

  return {
    records: <Value>(kind: RecordKind) => {
      const database = recordDatabases.get(kind)
      if (database === undefined) throw new Error(`unknown record kind ${kind}`)
      return collection<Value>(database)
    },

    chats,

    sessions: {
      ...sessions,
      async update (sessionId, change) {
        assertKeyPart('session id', sessionId)
        return await sessions.update(sessionId, change)
      },
      async list () {
        assertOpen()
        return [...sessionDatabase.getRange()].map(({ value }) => value.value as SessionMetadata)
      }
    },

    webhookDeliveries,

    leases: {
      async acquire (sessionId, instanceId, leaseMs) {
        assertOpen()
        assertKeyPart('session id', sessionId)
        return await leaseDatabase.transaction(() => {
          const now = clock()
          const stored = leaseDatabase.get(sessionId)
          if (stored !== undefined && stored.expiresAt > now && stored.instanceId !== instanceId) return undefined
          const epoch = (stored?.epoch ?? 0) + 1
          leaseDatabase.putSync(sessionId, { instanceId, epoch, expiresAt: now + leaseMs })
          return { sessionId, instanceId, epoch }
        })
      },
      async renew (lease, leaseMs) {
        assertOpen()
        return await leaseDatabase.transaction(() => {
          if (!leaseIsLive(lease.sessionId, lease)) return false
          leaseDatabase.putSync(lease.sessionId, { instanceId: lease.instanceId, epoch: lease.epoch, expiresAt: clock() + leaseMs })
          return true
        })
      },
      async release (lease) {
        assertOpen()
        await leaseDatabase.transaction(() => {
          // The record stays with its epoch, so the next acquisition still counts up.
          if (leaseIsLive(lease.sessionId, lease)) {
            leaseDatabase.putSync(lease.sessionId, { instanceId: lease.instanceId, epoch: lease.epoch, expiresAt: 0 })
          }
        })
      },
      async holder (sessionId) {
        assertOpen()
        const stored = leaseDatabase.get(sessionId)
        if (stored === undefined || stored.expiresAt <= clock()) return undefined
        return { sessionId, ...stored }
      }
    },

    instances: {
      async heartbeat (instance: InstanceInfo, ttlMs: number) {
        assertOpen()
        await instanceDatabase.put(instance.instanceId, { url: instance.url, expiresAt: clock() + ttlMs })
      },
      async remove (instanceId) {
        assertOpen()
        await instanceDatabase.remove(instanceId)
      },
      async live () {
        assertOpen()
        const now = clock()
        return [...instanceDatabase.getRange()]
          .filter(({ value }) => value.expiresAt > now)
          .map(({ key, value }) => ({ instanceId: key, url: value.url }))
      }
    },

    authState: {
      async readCredentials (sessionId) {
        assertOpen()
        return credentialDatabase.get(sessionId)
      },
      async readKeys (sessionId, category, ids) {
        assertOpen()
        assertKeyPart('key category', category)
        const prefix = `${keyPrefix(sessionId)}${category}/`
        const values = await keyDatabase.getMany(ids.map((id) => `${prefix}${id}`))
        const result: Record<string, string> = {}
        ids.forEach((id, index) => {
          const value = values[index]
          if (value !== undefined) result[id] = value
        })
        return result
      },
      async write (sessionId, lease, changes) {
        assertOpen()
        assertKeyPart('session id', sessionId)
        for (const category of Object.keys(changes.keys ?? {})) assertKeyPart('key category', category)
        // The lease lives in the other environment; LMDB transactions do not span two files, so
        // the check runs inside the credentials transaction and reads the lease's committed state.
        // One process writes both, which makes check-then-write safe here.
        const written = await auth.transaction(() => {
          if (sessionId !== lease.sessionId || !leaseIsLive(sessionId, lease)) return false
          if (changes.credentials !== undefined) credentialDatabase.putSync(sessionId, changes.credentials)
          for (const [category, values] of Object.entries(changes.keys ?? {})) {
            for (const [id, value] of Object.entries(values)) {
              const key = `${keyPrefix(sessionId)}${category}/${id}`
              if (value === null) keyDatabase.removeSync(key)
              else keyDatabase.putSync(key, value)
            }
          }
          return true
        })
        if (!written) throw new StaleLeaseError(sessionId, lease.instanceId, lease.epoch)
      },
      async delete (sessionId, lease) {
        assertOpen()
        const deleted = await auth.transaction(() => {
          if (sessionId !== lease.sessionId || !leaseIsLive(sessionId, lease)) return false
          credentialDatabase.removeSync(sessionId)
          const prefix = keyPrefix(sessionId)
          // Session ids never contain '/', and '0' is the character after it: the range holds
          // exactly this session's keys.
          for (const key of keyDatabase.getKeys({ start: prefix, end: `${sessionId}0` })) keyDatabase.removeSync(key)
          return true
        })
        if (!deleted) throw new StaleLeaseError(sessionId, lease.instanceId, lease.epoch)
      }
    },

    deleteExpired,

    async close () {
      if (closed) return
      closed = true
      if (sweepTimer !== undefined) clearInterval(sweepTimer)
      await state.close()
      await auth.close()
    }
  }
}
