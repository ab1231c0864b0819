import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile, writeFile } from 'node:fs/promises'
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
