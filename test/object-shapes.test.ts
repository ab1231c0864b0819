// V8 gives objects built the same way one shared shape (map) by recording, on the map of `{}`, a
// transition per first property name: 1,536 at most. protobufjs kept one `{}` per oneof field
// name, and WAProto has about 1,500 of them, so loading Baileys filled that list. From then on
// every object whose first property was not already listed got a fresh shape of its own: Node's
// nextTick objects once a garbage collection had dropped theirs, request header objects,
// Fastify's reply headers. The code building them fell to V8's slow path on each request: in a
// profile of `GET /`, about 20 µs of 200 per request went to nextTick objects alone.
// patches/protobufjs+*.patch keeps those names in a dictionary object instead. The first test
// fails on the unpatched package.
//
// Signal sessions fill the same list: a parsed session record is built of objects whose first
// property is a random key, one name each. The last test fails while the recently used keys of each
// session (src/auth-state-files.ts) are held parsed instead of as text.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { temporaryDirectory, testApiKey } from './helper.js'
import { freePort, spawnNode, stopProcess, waitForOutput, serviceStart } from './processes.js'

// Run with --allow-natives-syntax; answers SIGWINCH (a signal the service does not shut down on)
// with one line saying whether two objects built alike still share a shape. The first property
// name is new, so only a free place in the list of `{}` can give them one.
const probe = `
const { createHook } = require('node:async_hooks')
function sharesShape () {
  const name = 'probe_' + Math.random().toString(36).slice(2)
  const first = {}; first[name] = 1
  const second = {}; second[name] = 2
  return %HaveSameMap(first, second)
}
function check () {
  const ticks = []
  const hook = createHook({ init (id, type, trigger, resource) { if (type === 'TickObject') ticks.push(resource) } }).enable()
  process.nextTick(() => {}); process.nextTick(() => {})
  hook.disable()
  // Twice: a list with one place left takes the first name, and is full for the next.
  process.stderr.write('shapes: new-name=' + (sharesShape() && sharesShape()) + ' next-tick=' + %HaveSameMap(ticks[0], ticks[1]) + '\\n')
}
process.on('SIGWINCH', check)
if (process.env.FILL_EMPTY_OBJECT_TRANSITIONS) {
  globalThis.filled = Array.from({ length: 1600 }, (_, index) => { const object = {}; object['filled' + index] = index; return object })
  check()
}
`

async function writeProbe (directory: string): Promise<string> {
  const file = join(directory, 'shape-probe.cjs')
  await writeFile(file, probe)
  return file
}

t.test('the service, started as npm start starts it, keeps shared shapes for new objects after requests', async (t) => {
  const directory = await temporaryDirectory(t)
  const port = await freePort()
  const [nodeArguments, entry] = [serviceStart.slice(0, -1), serviceStart.at(-1)!]
  const server = spawnNode([...nodeArguments, '--allow-natives-syntax', '-r', await writeProbe(directory), entry], {
    PATH: process.env.PATH,
    PORT: String(port),
    API_KEY: testApiKey,
    AUTH_STATE_DIR: join(directory, 'auth_state'),
    LOG_DIR: join(directory, 'logs'),
    DATA_DIR: join(directory, 'data'),
    RATE_LIMIT_MAX: '1000'
  })
  t.teardown(() => stopProcess(server.child))
  await waitForOutput(server, /Server listening/)
  const statuses = new Set<number>()
  for (let request = 0; request < 200; request++) {
    const response = await fetch(`http://127.0.0.1:${port}/api/health`, { headers: { 'x-api-key': testApiKey } })
    statuses.add(response.status)
    await response.arrayBuffer()
  }
  t.same([...statuses], [200])
  server.child.kill('SIGWINCH')
  await waitForOutput(server, /shapes: /)
  t.match(server.output(), /shapes: new-name=true next-tick=true/)
})

// The probe itself: with the list filled on purpose, two objects given a new first property no
// longer share a shape.
t.test('the probe sees a full transition list', async (t) => {
  const directory = await temporaryDirectory(t)
  const child = spawnNode(['--allow-natives-syntax', '-r', await writeProbe(directory), '-e', ''], {
    PATH: process.env.PATH,
    FILL_EMPTY_OBJECT_TRANSITIONS: '1'
  })
  await child.exited
  t.match(child.output(), /shapes: new-name=false/)
})

// Ten sessions, each with its 256 most recently used signal sessions in memory: 2,560 records,
// each with a first property name of its own, more than the list holds.
const heldKeys = `
import { openSessionAuthFiles } from './dist/src/auth-state-files.js'
const codec = { serialize: JSON.stringify, deserialize: JSON.parse, createCredentials: () => ({}), isLinked: () => true, keptPerKey: ['session'] }
const held = []
for (let session = 0; session < 10; session++) {
  const files = await openSessionAuthFiles(process.env.DIRECTORY + '/session-' + session, codec)
  held.push(files)
  const ids = Array.from({ length: 256 }, (_, index) => session + '-' + index + '.0')
  // Built as libsignal builds a record: a {} given its random key.
  const record = () => { const sessions = {}; sessions['base' + Math.random().toString(36).slice(2)] = { registrationId: 1 }; return { _sessions: sessions } }
  await files.keys.set({ session: Object.fromEntries(ids.map((id) => [id, record()])) })
  await files.keys.get('session', ids)
}
gc(); gc()
// A signal's listener does not keep the process alive: the timer does, until the probe answered.
const waiting = setInterval(() => {}, 1000)
const probed = new Promise((resolve) => process.once('SIGWINCH', () => setImmediate(resolve)))
process.kill(process.pid, 'SIGWINCH')
await probed
clearInterval(waiting)
await Promise.all(held.map((files) => files.close()))
`

t.test('signal sessions held in memory leave room in the shape list of {}', async (t) => {
  const directory = await temporaryDirectory(t)
  const child = spawnNode(['--allow-natives-syntax', '--expose-gc', '-r', await writeProbe(directory), '--input-type=module', '-e', heldKeys], {
    PATH: process.env.PATH,
    DIRECTORY: directory
  })
  await child.exited
  t.match(child.output(), /shapes: new-name=true/)
})
