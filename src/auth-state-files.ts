import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from './atomic-file.js'

// How credentials and keys become text and back. The transport supplies WhatsApp's own codec,
// so this module stays free of the WhatsApp library and can be tested on its own.
export interface AuthStateCodec<Credentials> {
  serialize: (value: unknown) => string
  deserialize: (text: string) => unknown
  createCredentials: () => Credentials
  reviveKey?: (category: string, value: unknown) => unknown
  // Whether these credentials belong to a device the phone has linked (not one still registering).
  isLinked: (credentials: Credentials) => boolean
  // Key categories read from their file when asked for instead of held in memory: large ones
  // that are rarely read (WhatsApp's 812 pre-keys are read only when a new contact writes first).
  keptOnDisk?: string[]
}

export type KeyData = Record<string, Record<string, unknown>>

export interface SessionAuthFiles<Credentials> {
  credentials: Credentials
  keys: {
    get: (category: string, ids: string[]) => Promise<Record<string, unknown>>
    set: (data: Record<string, Record<string, unknown | null | undefined>>) => Promise<void>
  }
  saveCredentials: () => Promise<void>
  // Waits for every pending write; writes asked for afterwards are dropped (the session is going away).
  close: () => Promise<void>
  // File writes done so far, for the benchmarks.
  writeCount: () => number
}

export class AuthStateUnreadableError extends Error {
  constructor (path: string, cause: unknown) {
    super(`credentials file ${path} cannot be read: ${(cause as Error).message}`)
    this.name = 'AuthStateUnreadableError'
  }
}

export const credentialsFileName = 'creds.json'
export const keysFolderName = 'keys'
const temporaryFileSuffix = '.tmp'

function categoryFileName (category: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(category)) throw new Error(`unexpected key category ${JSON.stringify(category)}`)
  return `${category}.json`
}

async function readJsonFile (path: string, codec: AuthStateCodec<unknown>): Promise<unknown | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new AuthStateUnreadableError(path, error)
  }
  try {
    return codec.deserialize(text)
  } catch (error) {
    throw new AuthStateUnreadableError(path, error)
  }
}

// Leftovers of writes a crash interrupted: the real files are intact, these are garbage.
async function removeTemporaryFiles (directory: string): Promise<void> {
  const entries = await readdir(directory).catch(() => [] as string[])
  await Promise.all(entries.filter((name) => name.endsWith(temporaryFileSuffix)).map((name) => rm(join(directory, name), { force: true })))
}

// A folder whose credentials never got as far as a link holds nothing worth keeping: logging in
// with them fails, and linking starts from fresh credentials anyway. Credentials that cannot be
// read count as linked, so they are never deleted by mistake (opening them reports the error).
export async function hasLinkedCredentials<Credentials> (directory: string, codec: AuthStateCodec<Credentials>): Promise<boolean> {
  try {
    const credentials = await readJsonFile(join(directory, credentialsFileName), codec as AuthStateCodec<unknown>)
    return credentials !== undefined && codec.isLinked(credentials as Credentials)
  } catch (error) {
    if (error instanceof AuthStateUnreadableError) return true
    throw error
  }
}

// One session's credentials and signal keys. Keys live in memory and in one file per category
// (a message touches the small session file, not the 800 pre-keys), except the categories the
// codec keeps on disk; every file is replaced atomically, writes are serialized per session, and
// writes asked for while one is running are coalesced into the next one.
export async function openSessionAuthFiles<Credentials> (
  directory: string,
  codec: AuthStateCodec<Credentials>
): Promise<SessionAuthFiles<Credentials>> {
  const keysDirectory = join(directory, keysFolderName)
  await mkdir(keysDirectory, { recursive: true, mode: 0o700 })
  await removeTemporaryFiles(directory)
  await removeTemporaryFiles(keysDirectory)

  const credentialsPath = join(directory, credentialsFileName)
  const storedCredentials = await readJsonFile(credentialsPath, codec as AuthStateCodec<unknown>) as Credentials | undefined
  const credentials = storedCredentials ?? codec.createCredentials()

  const keptOnDisk = new Set(codec.keptOnDisk ?? [])
  const keys = new Map<string, Map<string, unknown>>()
  // Changes to categories kept on disk, until their file holds them.
  const unwrittenChanges = new Map<string, Map<string, unknown>>()
  for (const name of await readdir(keysDirectory)) {
    if (!name.endsWith('.json')) continue
    const category = name.slice(0, -'.json'.length)
    if (keptOnDisk.has(category)) continue
    const stored = await readJsonFile(join(keysDirectory, name), codec as AuthStateCodec<unknown>) as Record<string, unknown>
    keys.set(category, new Map(Object.entries(stored)))
  }

  let closed = false
  let writes = 0
  let queue: Promise<void> = Promise.resolve()
  let nextFlush: Promise<void> | null = null
  const dirtyFiles = new Set<string>()

  function pathOf (file: string): string {
    return file === credentialsFileName ? credentialsPath : join(keysDirectory, file)
  }

  // A category kept on disk, as its file holds it with the changes not yet written on top.
  async function readKeptOnDisk (category: string): Promise<Map<string, unknown>> {
    const stored = await readJsonFile(
      pathOf(categoryFileName(category)),
      codec as AuthStateCodec<unknown>
    ) as Record<string, unknown> | undefined
    const current = new Map(Object.entries(stored ?? {}))
    for (const [id, value] of unwrittenChanges.get(category) ?? []) {
      if (value === null) current.delete(id)
      else current.set(id, value)
    }
    return current
  }

  // What to write, and what to do once it is written.
  async function render (file: string): Promise<{ text: string, written: () => void }> {
    if (file === credentialsFileName) return { text: codec.serialize(credentials), written: () => {} }
    const category = file.slice(0, -'.json'.length)
    if (!keptOnDisk.has(category)) return { text: codec.serialize(Object.fromEntries(keys.get(category) ?? [])), written: () => {} }
    const changes = new Map(unwrittenChanges.get(category) ?? [])
    const text = codec.serialize(Object.fromEntries(await readKeptOnDisk(category)))
    return {
      text,
      // Changes made while this write ran stay unwritten for the next one.
      written: () => {
        const pending = unwrittenChanges.get(category)
        if (pending === undefined) return
        for (const [id, value] of changes) if (pending.get(id) === value) pending.delete(id)
        if (pending.size === 0) unwrittenChanges.delete(category)
      }
    }
  }

  async function flush (): Promise<void> {
    nextFlush = null
    const files = [...dirtyFiles]
    dirtyFiles.clear()
    for (const [index, file] of files.entries()) {
      try {
        const { text, written } = await render(file)
        await writeFileAtomic(pathOf(file), text)
        written()
        writes++
      } catch (error) {
        // Keep what was not written dirty, so the next write request retries it.
        for (const unwritten of files.slice(index)) dirtyFiles.add(unwritten)
        throw error
      }
    }
  }

  function scheduleWrite (file: string): Promise<void> {
    if (closed) return Promise.resolve()
    dirtyFiles.add(file)
    if (nextFlush === null) {
      nextFlush = queue.then(flush)
      queue = nextFlush.catch(() => {})
    }
    return nextFlush
  }

  return {
    credentials,
    keys: {
      async get (category, ids) {
        const stored = keptOnDisk.has(category) ? await readKeptOnDisk(category) : keys.get(category)
        const result: Record<string, unknown> = {}
        for (const id of ids) {
          const value = stored?.get(id)
          if (value !== undefined) result[id] = codec.reviveKey === undefined ? value : codec.reviveKey(category, value)
        }
        return result
      },
      async set (data) {
        const pendingWrites: Array<Promise<void>> = []
        for (const [category, values] of Object.entries(data)) {
          const file = categoryFileName(category)
          if (keptOnDisk.has(category)) {
            let changes = unwrittenChanges.get(category)
            if (changes === undefined) {
              changes = new Map()
              unwrittenChanges.set(category, changes)
            }
            for (const [id, value] of Object.entries(values)) changes.set(id, value ?? null)
            pendingWrites.push(scheduleWrite(file))
            continue
          }
          let stored = keys.get(category)
          if (stored === undefined) {
            stored = new Map()
            keys.set(category, stored)
          }
          for (const [id, value] of Object.entries(values)) {
            if (value === null || value === undefined) stored.delete(id)
            else stored.set(id, value)
          }
          pendingWrites.push(scheduleWrite(file))
        }
        await Promise.all(pendingWrites)
      }
    },
    saveCredentials: async () => await scheduleWrite(credentialsFileName),
    close: async () => {
      closed = true
      await queue
    },
    writeCount: () => writes
  }
}
