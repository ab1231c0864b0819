import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { AuthStateUnreadableError, hasLinkedCredentials, openSessionAuthFiles } from '../src/auth-state-files.js'
import { temporaryDirectory } from './helper.js'

interface TestCredentials { counter: number, padding?: string, name?: string }

const codec = {
  serialize: (value: unknown) => JSON.stringify(value),
  deserialize: (text: string) => JSON.parse(text) as unknown,
  createCredentials: (): TestCredentials => ({ counter: 0 }),
  isLinked: (credentials: TestCredentials) => credentials.counter > 0
}

t.test('new credentials, saved and loaded again', async (t) => {
  const directory = await temporaryDirectory(t)
  t.equal(await hasLinkedCredentials(directory, codec), false)
  const files = await openSessionAuthFiles(directory, codec)
  t.same(files.credentials, { counter: 0 })
  files.credentials.counter = 7
  await files.saveCredentials()
  await files.keys.set({ 'pre-key': { 1: { public: 'a' }, 2: { public: 'b' } }, session: { peer: { state: 1 } } })
  await files.keys.set({ 'pre-key': { 1: null } })
  await files.close()
  t.equal(await hasLinkedCredentials(directory, codec), true)

  const again = await openSessionAuthFiles(directory, codec)
  t.same(again.credentials, { counter: 7 })
  t.same(await again.keys.get('pre-key', ['1', '2', '3']), { 2: { public: 'b' } })
  t.same(await again.keys.get('session', ['peer']), { peer: { state: 1 } })
  t.same(await again.keys.get('unknown-category', ['x']), {})
  t.same((await readdir(join(directory, 'keys'))).sort(), ['pre-key.json', 'session.json'])
})

t.test('keys can be revived into their real types', async (t) => {
  const directory = await temporaryDirectory(t)
  const reviving = { ...codec, reviveKey: (category: string, value: unknown) => ({ category, value }) }
  const files = await openSessionAuthFiles(directory, reviving)
  await files.keys.set({ 'app-state-sync-key': { a: 1 } })
  t.same(await files.keys.get('app-state-sync-key', ['a']), { a: { category: 'app-state-sync-key', value: 1 } })
})

t.test('writes asked for while one runs are coalesced, and each caller waits for its own data', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, codec)
  const calls: Array<Promise<void>> = []
  for (let index = 0; index < 50; index++) {
    calls.push(files.keys.set({ session: { [`peer${index}`]: { index } } }))
  }
  await Promise.all(calls)
  t.ok(files.writeCount() <= 3, `50 updates took ${files.writeCount()} writes`)
  const stored = JSON.parse(await readFile(join(directory, 'keys', 'session.json'), 'utf8')) as Record<string, unknown>
  t.equal(Object.keys(stored).length, 50, 'the last write holds every update')
})

t.test('close waits for pending writes, later writes are dropped', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, codec)
  files.credentials.counter = 1
  const saving = files.saveCredentials()
  await files.close()
  await saving
  files.credentials.counter = 2
  await files.saveCredentials()
  t.same(JSON.parse(await readFile(join(directory, 'creds.json'), 'utf8')), { counter: 1 })
})

t.test('a failed write is retried by the next one', async (t) => {
  const directory = await temporaryDirectory(t)
  let failNext = true
  const flaky = {
    ...codec,
    serialize: (value: unknown) => {
      if (failNext) {
        failNext = false
        throw new Error('disk full')
      }
      return JSON.stringify(value)
    }
  }
  const files = await openSessionAuthFiles(directory, flaky)
  files.credentials.counter = 3
  await t.rejects(files.saveCredentials(), /disk full/)
  await files.keys.set({ session: { peer: 1 } })
  t.same(JSON.parse(await readFile(join(directory, 'creds.json'), 'utf8')), { counter: 3 }, 'the credentials that failed were written with the next write')
})

t.test('an unreadable credentials file is an error, never a silent new identity', async (t) => {
  const directory = await temporaryDirectory(t)
  await writeFile(join(directory, 'creds.json'), '{"counter": 1')
  await t.rejects(openSessionAuthFiles(directory, codec), AuthStateUnreadableError)
  await t.rejects(openSessionAuthFiles(directory, codec), /creds\.json cannot be read/)
})

t.test('key categories cannot escape the folder', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, codec)
  await t.rejects(files.keys.set({ '../../evil': { a: 1 } }), /unexpected key category/)
})

t.test('a process killed mid-write leaves credentials that still load', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/auth-writer.ts', import.meta.url))
  for (let round = 0; round < 3; round++) {
    const directory = await temporaryDirectory(t)
    const child = spawn(process.execPath, ['--import', 'tsx', script, directory], { stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    // Kill at a different point each round, while writes are in full flow.
    const killAfter = 3 + round * 7
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if ((output.match(/written/g) ?? []).length >= killAfter) child.kill('SIGKILL')
    })
    await once(child, 'exit')
    const written = Number([...output.matchAll(/written (\d+)/g)].at(-1)?.[1])
    t.ok(written >= killAfter, `round ${round}: killed after ${written} writes`)

    const files = await openSessionAuthFiles<TestCredentials>(directory, codec)
    t.ok(files.credentials.counter >= written, `round ${round}: credentials hold a complete write (${files.credentials.counter})`)
    t.equal(files.credentials.padding?.length, 256 * 1024)
    const leftovers = [...await readdir(directory), ...await readdir(join(directory, 'keys'))].filter((name) => name.endsWith('.tmp'))
    t.same(leftovers, [], 'temporary files of the interrupted write are cleaned up')
  }
})

t.test('credentials of a device still registering are not linked; unreadable ones are kept as linked', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, codec)
  await files.saveCredentials()
  await files.close()
  t.equal(await hasLinkedCredentials(directory, codec), false, 'written but never linked')
  await writeFile(join(directory, 'creds.json'), '{not json')
  t.equal(await hasLinkedCredentials(directory, codec), true, 'never deleted because it cannot be read')
})

t.test('a category kept on disk is read from its file, with changes not yet written on top', async (t) => {
  const directory = await temporaryDirectory(t)
  const onDisk = { ...codec, keptOnDisk: ['pre-key'] }
  const files = await openSessionAuthFiles(directory, onDisk)
  await files.keys.set({ 'pre-key': { 1: { public: 'a' }, 2: { public: 'b' } }, session: { peer: { state: 1 } } })
  t.same(JSON.parse(await readFile(join(directory, 'keys', 'pre-key.json'), 'utf8')), { 1: { public: 'a' }, 2: { public: 'b' } })
  const removing = files.keys.set({ 'pre-key': { 1: null, 3: { public: 'c' } } })
  t.same(await files.keys.get('pre-key', ['1', '2', '3']), { 2: { public: 'b' }, 3: { public: 'c' } }, 'seen before the write ends')
  await removing
  await files.close()
  t.same(JSON.parse(await readFile(join(directory, 'keys', 'pre-key.json'), 'utf8')), { 2: { public: 'b' }, 3: { public: 'c' } })

  const again = await openSessionAuthFiles(directory, onDisk)
  t.same(await again.keys.get('pre-key', ['2', '3']), { 2: { public: 'b' }, 3: { public: 'c' } })
  t.same(await again.keys.get('session', ['peer']), { peer: { state: 1 } })
})

// The WhatsApp codec keeps signal sessions (and the other categories that gain an entry per
// number written to) one file per key, in memory only while recently used.
const perKeyCodec = { ...codec, keptPerKey: ['session'] }

t.test('a category kept per key: one file per key, deleted with its key, read back after a reopen', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, perKeyCodec)
  const ids = ['6281234567890.0', '123456789012345:12@lid', '..', 'a/b']
  await files.keys.set({ session: Object.fromEntries(ids.map((id, index) => [id, { index }])), 'app-state-sync-key': { k: 1 } })
  await files.keys.set({ session: { '..': null } })
  t.same((await readdir(join(directory, 'keys', 'session'))).sort(), ['123456789012345%3A12%40lid.json', '6281234567890%2E0.json', 'a%2Fb.json'])
  t.same((await readdir(join(directory, 'keys'))).sort(), ['app-state-sync-key.json', 'session'], 'no session.json beside the folder')
  await files.close()

  const again = await openSessionAuthFiles(directory, perKeyCodec)
  t.same(await again.keys.get('session', [...ids, 'never']), { '6281234567890.0': { index: 0 }, '123456789012345:12@lid': { index: 1 }, 'a/b': { index: 3 } })
  t.same(await again.keys.get('app-state-sync-key', ['k']), { k: 1 })
})

t.test('only the recently used keys of a category kept per key stay in memory', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, perKeyCodec)
  await files.keys.set({ session: Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`peer${index}`, { index }])) })
  // Files removed behind its back: what is still answered came from memory.
  await Promise.all(['peer0', 'peer299'].map(async (id) => await rm(join(directory, 'keys', 'session', `${id}.json`))))
  t.same(await files.keys.get('session', ['peer0']), {}, 'the oldest was forgotten, and read from its file')
  t.same(await files.keys.get('session', ['peer299']), { peer299: { index: 299 } }, 'the newest is still held')
})

t.test('a key set while its file is being read is answered with the new value', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, perKeyCodec)
  await files.keys.set({ session: { peer: { version: 1 } } })
  await files.close()
  const again = await openSessionAuthFiles(directory, perKeyCodec)
  const reading = again.keys.get('session', ['peer'])
  const setting = again.keys.set({ session: { peer: { version: 2 } } })
  t.same(await reading, { peer: { version: 2 } })
  await setting
  t.same(await again.keys.get('session', ['peer']), { peer: { version: 2 } })
  t.same(JSON.parse(await readFile(join(directory, 'keys', 'session', 'peer.json'), 'utf8')), { version: 2 })
})

t.test('a category file from before the category was kept per key is split once, at open', async (t) => {
  const directory = await temporaryDirectory(t)
  await mkdir(join(directory, 'keys', 'session'), { recursive: true })
  await writeFile(join(directory, 'creds.json'), JSON.stringify({ counter: 1 }))
  await writeFile(join(directory, 'keys', 'session.json'), JSON.stringify({ 'peer.0': { state: 1 }, other: { state: 2 } }))
  // A split a crash interrupted: one key file written, the category file still there.
  await writeFile(join(directory, 'keys', 'session', 'other.json'), JSON.stringify({ state: 2 }))
  const files = await openSessionAuthFiles(directory, perKeyCodec)
  t.same(await files.keys.get('session', ['peer.0', 'other']), { 'peer.0': { state: 1 }, other: { state: 2 } })
  t.same((await readdir(join(directory, 'keys'))).sort(), ['session'])
  t.same((await readdir(join(directory, 'keys', 'session'))).sort(), ['other.json', 'peer%2E0.json'])
})

t.test('a key kept per key is read as a fresh copy: changing what a read returned changes nothing held', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, { ...codec, keptPerKey: ['session'] })
  t.teardown(() => files.close())
  const value = { _sessions: { baseKey: { chain: 1 } } }
  await files.keys.set({ session: { peer: value } })
  value._sessions.baseKey.chain = 2
  const read = await files.keys.get('session', ['peer']) as { peer: typeof value }
  t.same(read.peer, { _sessions: { baseKey: { chain: 1 } } }, 'as it was when set')
  read.peer._sessions.baseKey.chain = 3
  t.same(await files.keys.get('session', ['peer']), { peer: { _sessions: { baseKey: { chain: 1 } } } }, 'as it was when set, still')
})

t.test('the files of one write go out side by side, and their folder is synced once', async (t) => {
  const atomicFile = await import('../src/atomic-file.js')
  let writing = 0
  let mostAtOnce = 0
  const foldersSynced: string[] = []
  let failing: string | undefined
  const { openSessionAuthFiles: openWithCountedWrites } = await t.mockImport<typeof import('../src/auth-state-files.js')>('../src/auth-state-files.js', {
    '../src/atomic-file.js': {
      writeFileAtomic: async (...args: Parameters<typeof atomicFile.writeFileAtomic>) => {
        mostAtOnce = Math.max(mostAtOnce, ++writing)
        try {
          if (failing !== undefined && args[0].endsWith(failing)) throw new Error('disk full')
          await atomicFile.writeFileAtomic(...args)
        } finally {
          writing--
        }
      },
      syncDirectory: async (path: string) => {
        foldersSynced.push(path)
        await atomicFile.syncDirectory(path)
      }
    }
  })
  const directory = await temporaryDirectory(t)
  const files = await openWithCountedWrites(directory, { ...codec, keptPerKey: ['session'] })
  t.teardown(() => files.close())
  await files.keys.set({ session: { first: { index: 1 }, second: { index: 2 }, third: { index: 3 } } })
  t.equal(mostAtOnce, 3, 'three key files written at once')
  t.same(foldersSynced, [join(directory, 'keys', 'session')], 'their folder synced once, after them')
  t.same((await readdir(join(directory, 'keys', 'session'))).sort(), ['first.json', 'second.json', 'third.json'])

  failing = 'fifth.json'
  await t.rejects(files.keys.set({ session: { fourth: { index: 4 }, fifth: { index: 5 } } }), /disk full/)
  failing = undefined
  await files.keys.set({ session: { sixth: { index: 6 } } })
  t.same(JSON.parse(await readFile(join(directory, 'keys', 'session', 'fifth.json'), 'utf8')), { index: 5 }, 'the file that failed is written with the next write')
})

t.test('a key file that cannot be read is an error, and is read again once it can be', async (t) => {
  const directory = await temporaryDirectory(t)
  const files = await openSessionAuthFiles(directory, { ...codec, keptPerKey: ['session'] })
  t.teardown(() => files.close())
  await files.keys.set({ session: { peer: { state: 1 } } })
  await files.close()
  const path = join(directory, 'keys', 'session', 'peer.json')
  await writeFile(path, '{not json')
  const reopened = await openSessionAuthFiles(directory, { ...codec, keptPerKey: ['session'] })
  t.teardown(() => reopened.close())
  await t.rejects(reopened.keys.get('session', ['peer']), AuthStateUnreadableError)
  await writeFile(path, '{"state":2}')
  t.same(await reopened.keys.get('session', ['peer']), { peer: { state: 2 } }, 'the unreadable text was not kept')
})
