import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { writeFileAtomic } from '../src/atomic-file.js'
import { temporaryDirectory } from './helper.js'

t.test('replaces the file whole, with owner-only permissions', async (t) => {
  const directory = await temporaryDirectory(t)
  const path = join(directory, 'creds.json')
  await writeFile(path, 'old')
  await writeFileAtomic(path, '{"new": true}')
  t.equal(await readFile(path, 'utf8'), '{"new": true}')
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]))
  t.same([...await readFile(path)], [1, 2, 3])
  t.same(await readdir(directory), ['creds.json'], 'no temporary file left')
})

t.test('a failed rename leaves the old file and no temporary file', async (t) => {
  const directory = await temporaryDirectory(t)
  // A directory where the file should be: the temp file is written, the rename over it fails.
  const path = join(directory, 'target')
  await mkdir(path)
  await writeFile(join(path, 'inside'), 'kept')
  await t.rejects(writeFileAtomic(path, 'data'), { code: /EISDIR|ENOTEMPTY|EEXIST/ })
  t.same(await readdir(directory), ['target'])
  t.equal(await readFile(join(path, 'inside'), 'utf8'), 'kept')
})

t.test('a failed write removes its temporary file', async (t) => {
  const directory = await temporaryDirectory(t)
  const path = join(directory, 'creds.json')
  // Data that cannot be written: writeFile rejects a value that is neither string nor bytes.
  await t.rejects(writeFileAtomic(path, 42 as unknown as string))
  t.same(await readdir(directory), [])
})
