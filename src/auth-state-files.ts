import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { syncDirectory, writeFileAtomic } from './atomic-file.js'

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
  // Key categories with one file per key, in memory only while recently used: the ones that get an
  // entry for every number the account writes to (signal sessions, identities, device lists).
  // Held whole, an OTP sender's session file grew by kilobytes with each new number, all of it in
  // memory and all of it rewritten with every message.
  keptPerKey?: string[]
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

function assertCategory (category: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(category)) throw new Error(`unexpected key category ${JSON.stringify(category)}`)
}

function categoryFileName (category: string): string {
  assertCategory(category)
  return `${category}.json`
}

// `<category>/<id>.json`, the id escaped so that any id is one plain file name ('.' too, so no id
// can be '.' or '..').
export function keyFileName (category: string, id: string): string {
  assertCategory(category)
  return `${category}/${encodeURIComponent(id).replaceAll('.', '%2E')}.json`
}

export function keyIdOfFileName (name: string): string {
  return decodeURIComponent(name.slice(0, -'.json'.length))
}

// Recently used keys of the categories kept per key, per session: enough for the numbers a
// session is writing to now; the others are read from their file when they come back.
const recentKeysKept = 256

async function readTextFile (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new AuthStateUnreadableError(path, error)
  }
}

function parseStored (path: string, text: string, codec: AuthStateCodec<unknown>): unknown {
  try {
    return codec.deserialize(text)
  } catch (error) {
    throw new AuthStateUnreadableError(path, error)
  }
}

async function readJsonFile (path: string, codec: AuthStateCodec<unknown>): Promise<unknown | undefined> {
  const text = await readTextFile(path)
  return text === undefined ? undefined : parseStored(path, text, codec)
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

// A category file written before its category was kept per key becomes one file per key, once;
// the category file goes only when every key file is written, so a crash before that splits
// it again at the next open (the socket has not run in between: nothing newer is overwritten).
// Each key file is synced on its own: slow for a large file, but it happens once.
async function splitIntoKeyFiles (keysDirectory: string, category: string, codec: AuthStateCodec<unknown>): Promise<void> {
  await mkdir(join(keysDirectory, category), { recursive: true, mode: 0o700 })
  await removeTemporaryFiles(join(keysDirectory, category))
  const categoryFile = join(keysDirectory, categoryFileName(category))
  const stored = await readJsonFile(categoryFile, codec) as Record<string, unknown> | undefined
  if (stored === undefined) return
  for (const [id, value] of Object.entries(stored)) {
    await writeFileAtomic(join(keysDirectory, keyFileName(category, id)), codec.serialize(value))
  }
  await rm(categoryFile)
}

// One session's credentials and signal keys. Keys live in memory and in one file per category,
// except the categories the codec keeps on disk (read from their file when asked for) and those it
// keeps per key (one file per key, the recently used in memory); every file is replaced
// atomically, writes are serialized per session, and writes asked for while one is running are
// coalesced into the next one.
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
  const keptPerKey = new Set(codec.keptPerKey ?? [])
  for (const category of keptPerKey) await splitIntoKeyFiles(keysDirectory, category, codec as AuthStateCodec<unknown>)
  const keys = new Map<string, Map<string, unknown>>()
  // Categories kept per key, by key file name: changes not yet written (null: deleted), and the
  // recently used values, least recently used first. Both hold the file's text, parsed again for
  // each read: a parsed signal session keeps objects whose first property is a random key, and
  // V8 records each such name on the shape of {} (1,536 at most). Thousands of them held here
  // filled that list, and from then on every object built from {} (request headers, Node's
  // nextTick objects) got a shape of its own and the slow path in V8 (test/object-shapes.test.ts).
  const unwrittenKeys = new Map<string, string | null>()
  const recentKeys = new Map<string, string>()
  // Reads of key files under way, one per file; a set while one runs makes its result stale.
  const readsInFlight = new Map<string, Promise<string | undefined>>()
  const superseded = new WeakSet<Promise<string | undefined>>()
  // Changes to categories kept on disk, until their file holds them.
  const unwrittenChanges = new Map<string, Map<string, unknown>>()
  for (const name of await readdir(keysDirectory)) {
    if (!name.endsWith('.json')) continue
    const category = name.slice(0, -'.json'.length)
    if (keptOnDisk.has(category) || keptPerKey.has(category)) continue
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

  function remember (file: string, text: string): void {
    recentKeys.delete(file)
    recentKeys.set(file, text)
    if (recentKeys.size > recentKeysKept) recentKeys.delete(recentKeys.keys().next().value as string)
  }

  // The key file's text, as last set or as the file holds it.
  async function keptPerKeyText (file: string): Promise<string | undefined> {
    if (unwrittenKeys.has(file)) return unwrittenKeys.get(file) ?? undefined
    const recent = recentKeys.get(file)
    if (recent !== undefined) {
      remember(file, recent)
      return recent
    }
    let reading = readsInFlight.get(file)
    if (reading === undefined) {
      reading = readTextFile(pathOf(file))
      readsInFlight.set(file, reading)
    }
    let text: string | undefined
    try {
      text = await reading
    } finally {
      if (readsInFlight.get(file) === reading) readsInFlight.delete(file)
    }
    // A set during the read holds the newer value; one that was set and already written and
    // forgotten took the read's place, and the file holds it now.
    if (unwrittenKeys.has(file)) return unwrittenKeys.get(file) ?? undefined
    if (recentKeys.has(file)) return recentKeys.get(file)
    if (superseded.has(reading)) return await keptPerKeyText(file)
    if (text !== undefined) remember(file, text)
    return text
  }

  async function readKeptPerKey (file: string): Promise<unknown> {
    const text = await keptPerKeyText(file)
    if (text === undefined) return undefined
    try {
      return parseStored(pathOf(file), text, codec as AuthStateCodec<unknown>)
    } catch (error) {
      // Only a file's text can fail (a set's is the codec's own): not kept, so the file is read
      // again next time.
      if (recentKeys.get(file) === text) recentKeys.delete(file)
      throw error
    }
  }

  // What to write (null: remove the file; undefined: nothing left to write), and what to do once
  // it is written.
  async function render (file: string): Promise<{ text: string | null | undefined, written: () => void }> {
    if (file === credentialsFileName) return { text: codec.serialize(credentials), written: () => {} }
    // A key file: its change, unless an earlier write already took it.
    if (file.includes('/')) {
      if (!unwrittenKeys.has(file)) return { text: undefined, written: () => {} }
      const text = unwrittenKeys.get(file)!
      return {
        text,
        // A change made while this write ran stays unwritten for the next one.
        written: () => { if (unwrittenKeys.get(file) === text) unwrittenKeys.delete(file) }
      }
    }
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

  // The files of one flush are written side by side, and each folder is synced once after them:
  // one after the other, a message's two or three key files cost a send their fsyncs in a row.
  async function flush (): Promise<void> {
    nextFlush = null
    const files = [...dirtyFiles]
    dirtyFiles.clear()
    const outcomes = await Promise.allSettled(files.map(async (file) => {
      const { text, written } = await render(file)
      if (text === undefined) return undefined
      if (text === null) await rm(pathOf(file), { force: true })
      else await writeFileAtomic(pathOf(file), text, { syncFolder: false })
      return written
    }))
    const changed = files.flatMap((file, index) => {
      const outcome = outcomes[index]!
      return outcome.status === 'fulfilled' && outcome.value !== undefined ? [{ file, written: outcome.value }] : []
    })
    const folders = await Promise.allSettled([...new Set(changed.map(({ file }) => dirname(pathOf(file))))].map(syncDirectory))
    const failure = [...outcomes, ...folders].find((outcome) => outcome.status === 'rejected')
    if (failure !== undefined) {
      // Keep them all dirty (those written too: their folder may not be synced), so the next
      // write request retries them.
      for (const file of files) dirtyFiles.add(file)
      throw failure.reason
    }
    for (const { written } of changed) written()
    writes += changed.length
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
        let values: unknown[]
        if (keptPerKey.has(category)) {
          values = await Promise.all(ids.map(async (id) => await readKeptPerKey(keyFileName(category, id))))
        } else {
          const stored = keptOnDisk.has(category) ? await readKeptOnDisk(category) : keys.get(category)
          values = ids.map((id) => stored?.get(id))
        }
        const result: Record<string, unknown> = {}
        ids.forEach((id, index) => {
          const value = values[index]
          if (value !== undefined) result[id] = codec.reviveKey === undefined ? value : codec.reviveKey(category, value)
        })
        return result
      },
      async set (data) {
        const pendingWrites: Array<Promise<void>> = []
        for (const [category, values] of Object.entries(data)) {
          if (keptPerKey.has(category)) {
            for (const [id, value] of Object.entries(values)) {
              const file = keyFileName(category, id)
              const reading = readsInFlight.get(file)
              if (reading !== undefined) superseded.add(reading)
              const text = value === null || value === undefined ? null : codec.serialize(value)
              unwrittenKeys.set(file, text)
              if (text === null) recentKeys.delete(file)
              else remember(file, text)
              pendingWrites.push(scheduleWrite(file))
            }
            continue
          }
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
