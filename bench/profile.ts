// `npx tsx bench/profile.ts <path> [seconds] [bare]`: the built service (or with `bare`, the bare
// Fastify reference) under `node --cpu-prof`, loaded on one path (root, health, verify) at 50
// connections, then CPU time per request and the top costs by package and by function. CPU time
// per request moves less than requests/s on a shared machine. Needs `npm run build` first. No
// session is linked: this is the HTTP path.
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, projectRoot, serviceStart } from './processes.js'

const paths: Record<string, { method: 'GET' | 'POST', path: string, body?: string }> = {
  root: { method: 'GET', path: '/' },
  health: { method: 'GET', path: '/api/health' },
  verify: { method: 'POST', path: '/api/otp/verify', body: JSON.stringify({ to: '081234567890', code: '123456' }) }
}
const target = paths[process.argv[2] ?? 'verify']
if (target === undefined) throw new Error(`path is one of ${Object.keys(paths).join(', ')}`)
const seconds = Number(process.argv[3] ?? 8)
const directory = await mkdtemp(join(tmpdir(), 'otp-api-profile-'))
const port = await freePort()
const apiKey = 'profile-api-key-0123456789'
const bare = process.argv[4] === 'bare'
const entry = bare ? ['--import', 'tsx', 'bench/bare-server.ts'] : serviceStart
if (bare) target.path = target.path === '/api/otp/verify' ? '/verify' : '/'
const service = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${join(directory, 'profile')}`, ...entry], {
  cwd: projectRoot,
  env: { ...process.env, PORT: String(port), API_KEY: apiKey, RATE_LIMIT_MAX: '1000000', DATA_DIR: join(directory, 'data'), LOG_DIR: join(directory, 'logs'), AUTH_STATE_DIR: join(directory, 'auth') },
  stdio: ['ignore', 'ignore', 'inherit']
})
const url = `http://127.0.0.1:${port}`
for (let attempt = 0; ; attempt++) {
  try {
    if ((await fetch(`${url}/`)).ok) break
  } catch {}
  if (attempt > 600) throw new Error('the service did not start')
  await new Promise((resolve) => setTimeout(resolve, 50))
}
const result = await autocannon({ url, connections: 50, duration: seconds, ...target, headers: { 'content-type': 'application/json', 'x-api-key': apiKey } })
const requests = result.requests.total
console.log(`${target.method} ${target.path}: ${Math.round(requests / result.duration)} req/s`)
service.kill('SIGTERM')
await once(service, 'exit')

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
const [file] = await readdir(join(directory, 'profile'))
const profile = JSON.parse(await readFile(join(directory, 'profile', file), 'utf8')) as { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }
// PROFILE_OUT keeps the profile for Chrome DevTools or speedscope.
if (process.env.PROFILE_OUT !== undefined) await copyFile(join(directory, 'profile', file), process.env.PROFILE_OUT)
await rm(directory, { recursive: true, force: true })
const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const parents = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
// Start-up (module loading, schema compiling) is over once the first request is being served: the
// first sample with Node's HTTP request handler on its stack.
const servesRequest = (id: number): boolean => {
  for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
    if (nodes.get(current)!.callFrame.functionName === 'parserOnIncoming') return true
  }
  return false
}
let serving = false
let busyServing = 0
const byPackage = new Map<string, number>()
const byFunction = new Map<string, number>()
let busy = 0
profile.samples.forEach((id, index) => {
  const { functionName, url: source, lineNumber } = nodes.get(id)!.callFrame
  if (functionName === '(idle)') return
  const time = profile.timeDeltas[index] ?? 0
  busy += time
  serving ||= servesRequest(id)
  if (serving) busyServing += time
  const modulePath = source.split('node_modules/').at(-1)!
  const owner = source.includes('node_modules/')
    ? modulePath.split('/').slice(0, modulePath.startsWith('@') ? 2 : 1).join('/')
    : source === '' ? `(${functionName})` : source.replace(/^file:\/\/.*?\/dist\//, 'dist/')
  byPackage.set(owner, (byPackage.get(owner) ?? 0) + time)
  const where = `${functionName === '' ? '(anonymous)' : functionName} ${source.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/dist\//, 'dist/')}:${lineNumber + 1}`
  byFunction.set(where, (byFunction.get(where) ?? 0) + time)
})
const top = (costs: Map<string, number>): string[] => [...costs].sort((a, b) => b[1] - a[1]).slice(0, 20)
  .map(([name, time]) => `${(100 * time / busy).toFixed(1).padStart(5)}%  ${name}`)
console.log(`busy ${Math.round(busy / 1000)} ms, ${Math.round(busy / requests)} µs of CPU per request (start-up included), ${Math.round(busyServing / requests)} µs after start-up\n-- by package or file (self time)\n${top(byPackage).join('\n')}\n-- by function (self time)\n${top(byFunction).join('\n')}`)
