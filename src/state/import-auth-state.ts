import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { credentialsFileName, keyIdOfFileName, keysFolderName } from '../auth-state-files.js'
import { writeFileAtomic } from '../atomic-file.js'
import { isSessionId } from '../session-id.js'
import { credentialsAreLinked } from './session-auth-state.js'
import type { StateStore } from './state-store.js'

// Moving from one instance (credentials in session folders, src/auth-state-files.ts) to a shared
// store: each folder is copied in once, under the session's lease, so no new scan is needed.

export const importedMarkerFileName = 'imported-to-state-store.json'

export type ImportOutcome =
  // Copied into the store now.
  | 'imported'
  // The store already had credentials for this session (another run got there first, or the
  // marker was lost in a crash): the store's are newer and stay; the folder is marked.
  | 'already-in-store'
  // The folder was marked on an earlier run.
  | 'marked-before'
  // Another instance holds the session's lease; try again on the next run.
  | 'busy'
  // A file in the folder is not JSON; the folder is left as it is, unmarked, for a person to look at.
  | 'unreadable'

export interface ImportAuthStateOptions {
  authStateDirectory: string
  store: StateStore
  instanceId: string
  leaseMs: number
  clock?: () => number
}

export interface ImportedSession {
  sessionId: string
  outcome: ImportOutcome
  error?: string
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

// The folder's files hold JSON made by WhatsApp's codec (BufferJSON); parsed as plain JSON and
// written back per key, each value keeps that codec's form, which is what the store holds.
async function readFolder (directory: string): Promise<{ credentials: string, keys: Record<string, Record<string, string>> }> {
  const credentials = await readFile(join(directory, credentialsFileName), 'utf8')
  const keys: Record<string, Record<string, string>> = {}
  const keysDirectory = join(directory, keysFolderName)
  const entries = await readdir(keysDirectory, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    if (entry.isDirectory()) {
      // A category kept one file per key (see keptPerKey in src/auth-state-files.ts).
      const values: Record<string, string> = {}
      for (const name of (await readdir(join(keysDirectory, entry.name))).filter((candidate) => candidate.endsWith('.json'))) {
        values[keyIdOfFileName(name)] = JSON.stringify(JSON.parse(await readFile(join(keysDirectory, entry.name, name), 'utf8')))
      }
      keys[entry.name] = { ...keys[entry.name], ...values }
      continue
    }
    if (!entry.name.endsWith('.json')) continue
    const values = JSON.parse(await readFile(join(keysDirectory, entry.name), 'utf8')) as Record<string, unknown>
    const category = entry.name.slice(0, -'.json'.length)
    keys[category] = { ...Object.fromEntries(Object.entries(values).map(([id, value]) => [id, JSON.stringify(value)])), ...keys[category] }
  }
  return { credentials, keys }
}

function userOf (credentials: string): { id: string, name: string | null } | null {
  const me = (JSON.parse(credentials) as { me?: { id?: unknown, name?: unknown } }).me
  if (typeof me?.id !== 'string') return null
  return { id: me.id, name: typeof me.name === 'string' ? me.name : null }
}

export async function importAuthStateFolders (options: ImportAuthStateOptions): Promise<ImportedSession[]> {
  const { authStateDirectory, store, instanceId, leaseMs } = options
  const clock = options.clock ?? Date.now
  const entries = await readdir(authStateDirectory, { withFileTypes: true }).catch(() => [])
  const results: ImportedSession[] = []

  for (const entry of entries) {
    if (!entry.isDirectory() || !isSessionId(entry.name)) continue
    const sessionId = entry.name
    const directory = join(authStateDirectory, sessionId)
    // A folder without credentials holds nothing to carry over (the registry removes such folders).
    if (!await exists(join(directory, credentialsFileName))) continue
    const marker = join(directory, importedMarkerFileName)
    if (await exists(marker)) {
      results.push({ sessionId, outcome: 'marked-before' })
      continue
    }

    const lease = await store.leases.acquire(sessionId, instanceId, leaseMs)
    if (lease === undefined) {
      results.push({ sessionId, outcome: 'busy' })
      continue
    }
    try {
      const importedAt = new Date(clock()).toISOString()
      let outcome: ImportOutcome = 'already-in-store'
      if (await store.authState.readCredentials(sessionId) === undefined) {
        let folder: Awaited<ReturnType<typeof readFolder>>
        let user: ReturnType<typeof userOf>
        try {
          folder = await readFolder(directory)
          user = userOf(folder.credentials)
        } catch (error) {
          results.push({ sessionId, outcome: 'unreadable', error: (error as Error).message })
          continue
        }
        // All of it in one fenced write: a crash leaves the store with the whole session or none.
        await store.authState.write(sessionId, lease, folder)
        await store.sessions.update(sessionId, (current) => ({
          value: {
            ...(current ?? { sessionId, createdAt: importedAt }),
            user,
            importedAt,
            linked: credentialsAreLinked(folder.credentials)
          },
          result: null
        }))
        outcome = 'imported'
      }
      // Marked only after the store has it: a crash before this line makes the next run find the
      // credentials in the store and mark the folder then.
      await writeFileAtomic(marker, JSON.stringify({ importedAt, instanceId }))
      results.push({ sessionId, outcome })
    } finally {
      await store.leases.release(lease)
    }
  }
  return results
}
