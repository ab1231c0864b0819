import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// The rules of docs/architecture.md ("Layers") that a machine can check.

const root = fileURLToPath(new URL('..', import.meta.url))
const productFolders = ['src', 'plugins', 'schemas']
const maxLines = 400

async function sourceFiles (folder: string): Promise<string[]> {
  const entries = await readdir(join(root, folder), { withFileTypes: true, recursive: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort()
}

async function productFiles (): Promise<Array<{ path: string, text: string }>> {
  const paths = (await Promise.all(productFolders.map(sourceFiles))).flat()
  return await Promise.all(paths.map(async (path) => ({ path, text: await readFile(join(root, path), 'utf8') })))
}

// Runtime imports only: `import type` is erased and ties no module to another at run time.
function runtimeImports (text: string): string[] {
  return [...text.matchAll(/^import\s+(?!type\s)[^'"]*['"]([^'"]+)['"]/gm)].map((match) => match[1])
}

t.test(`no source file in ${productFolders.join(', ')} is over ${maxLines} lines`, async (t) => {
  const offenders: string[] = []
  for (const { path, text } of await productFiles()) {
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    if (lines > maxLines) offenders.push(`${path} (${lines} lines)`)
  }
  t.same(offenders, [], 'split these along their responsibilities')
})

t.test('imports follow the layers', async (t) => {
  const broken: string[] = []
  for (const { path, text } of await productFiles()) {
    for (const specifier of runtimeImports(text)) {
      if (specifier.startsWith('@whiskeysockets/baileys') && path !== 'plugins/transport.ts') broken.push(`${path}: only plugins/transport.ts speaks to Baileys`)
      if (specifier.includes('/test/') || specifier.startsWith('../test')) broken.push(`${path}: product code never imports test code (${specifier})`)
      const isModule = path.startsWith('src/') && path !== 'src/app.ts' && !path.startsWith('src/routes/')
      if (isModule && /(^|\/)(plugins|schemas|routes)\//.test(specifier)) broken.push(`${path}: src modules import only src modules and libraries (${specifier})`)
      if (path.startsWith('src/routes/') && specifier.includes('plugins/')) broken.push(`${path}: routes reach plugins through their decorators (${specifier})`)
      if (path.startsWith('schemas/') && specifier.includes('plugins/')) broken.push(`${path}: schemas do not import plugins (${specifier})`)
      if (path.startsWith('plugins/') && specifier.startsWith('./')) broken.push(`${path}: plugins reach each other through decorators and \`dependencies\` (${specifier})`)
      if (specifier.startsWith('typebox') && path !== 'schemas/typebox.ts') broken.push(`${path}: TypeBox at run time comes through schemas/typebox.ts, which the build bundles into one module (${specifier})`)
    }
  }
  t.same(broken, [])
})

// Loaded where they are used (a dynamic import), so a start that does not need them does not pay
// their load time and memory: Redis and forwarding only with REDIS_URL, the QR renderer only for a QR.
const loadedOnUse = ['ioredis', '@fastify/reply-from', 'qrcode']
// Itself imported only dynamically (plugins/state-store.ts), so it may import ioredis.
const redisStateStore = 'src/state/redis-state-store.ts'

t.test(`${loadedOnUse.join(', ')} are never imported at start`, async (t) => {
  const eager: string[] = []
  const startFiles = new Set<string>()
  for (const { path, text } of await productFiles()) {
    for (const specifier of runtimeImports(text)) {
      if (loadedOnUse.includes(specifier) && path !== redisStateStore) eager.push(`${path}: ${specifier}`)
      if (specifier.endsWith('redis-state-store.js')) startFiles.add(`${path}: ${specifier}`)
    }
  }
  t.same(eager, [])
  t.same([...startFiles], [], 'the Redis state store module loads ioredis')
})
