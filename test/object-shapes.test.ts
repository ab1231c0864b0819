// V8 gives objects built the same way one shared shape (map) by recording, on the map of `{}`, a
// transition per first property name: 1,536 at most. protobufjs kept one `{}` per oneof field
// name, and WAProto has about 1,500 of them, so loading Baileys filled that list. From then on
// every object whose first property was not already listed got a fresh shape of its own: Node's
// nextTick objects once a garbage collection had dropped theirs, request header objects,
// Fastify's reply headers. The code building them fell to V8's slow path on each request: in a
// profile of `GET /`, about 20 µs of 200 per request went to nextTick objects alone.
// patches/protobufjs+*.patch keeps those names in a dictionary object instead. These tests fail
// on the unpatched package.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { temporaryDirectory, testApiKey } from './helper.js'
import { freePort, spawnNode, stopProcess, waitForOutput, serviceStart } from './processes.js'

// Run with --allow-natives-syntax; answers SIGUSR2 with one line saying whether two objects built
// alike still share a shape. The first property name is new, so only a free slot in the list of
// `{}` can give them one.
const probe = `
const { createHook } = require('node:async_hooks')
function check () {
  const name = 'probe_' + Math.random().toString(36).slice(2)
  const first = {}; first[name] = 1
  const second = {}; second[name] = 2
  const ticks = []
  const hook = createHook({ init (id, type, trigger, resource) { if (type === 'TickObject') ticks.push(resource) } }).enable()
  process.nextTick(() => {}); process.nextTick(() => {})
  hook.disable()
  process.stderr.write('shapes: new-name=' + %HaveSameMap(first, second) + ' next-tick=' + %HaveSameMap(ticks[0], ticks[1]) + '\\n')
}
process.on('SIGUSR2', check)
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
  server.child.kill('SIGUSR2')
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
