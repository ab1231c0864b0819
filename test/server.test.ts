import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { temporaryDirectory, testApiKey } from './helper.js'
import { freePort, spawnNode, waitForOutput, type NodeProcess, serviceStart } from './processes.js'

// npm start's and the Docker image's command: node, its arguments, the built server.
const startServer = (env: Record<string, string>): NodeProcess => spawnNode(serviceStart, { PATH: process.env.PATH, ...env })

t.test('SIGTERM and SIGINT close the server gracefully and free the port', async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const directory = await temporaryDirectory(t)
    const port = await freePort()
    const server = startServer({
      PORT: String(port),
      HOST: '0.0.0.0',
      API_KEY: testApiKey,
      AUTH_STATE_DIR: join(directory, 'auth_state'),
      LOG_DIR: join(directory, 'logs'),
      DATA_DIR: join(directory, 'data')
    })
    const { child, output } = server
    await waitForOutput(server, /Server listening/)

    const health = await fetch(`http://127.0.0.1:${port}/api/health`)
    t.equal(health.status, 200)
    const protectedResponse = await fetch(`http://127.0.0.1:${port}/api/nothing`)
    t.equal(protectedResponse.status, 401, 'HOST=0.0.0.0 as in Docker, with the key enforced')

    const started = Date.now()
    child.kill(signal)
    const [code] = await once(child, 'exit') as [number | null]
    t.equal(code, 0, `${signal}: exit code 0`)
    t.ok(Date.now() - started < 10_000, `${signal}: exited within 10 seconds`)
    t.match(output(), /shutting down/)
    // stdout gets every line app.log gets, the request lines included, written out before the exit.
    t.match(output(), /"method":"GET","path":"\/api\/health","statusCode":200,.*"msg":"request completed"/)
    t.match(output(), /"path":"\/api\/nothing","statusCode":401,.*"errorCode":"UNAUTHORIZED"/)

    const probe = createServer()
    probe.listen(port, '0.0.0.0')
    await once(probe, 'listening')
    probe.close()
    t.pass(`${signal}: the port is free again`)
  }
})

t.test('a bad env value stops the service with one line naming the variable', async (t) => {
  const { child, output } = startServer({ PORT: 'abc' })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 1)
  t.equal(output(), 'Invalid configuration: PORT must be an integer from 0 to 65535 (got "abc")\n')
})

t.test('a public HOST without API_KEY refuses to start', async (t) => {
  const { child, output } = startServer({ HOST: '0.0.0.0', PORT: '0' })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 1)
  t.match(output(), /^Invalid configuration: API_KEY must be set when HOST is not a loopback address/)
})

// The build writes schemas/typebox.ts as one bundled module (see there why): the built service
// must load no TypeBox module of its own and still serve exactly the committed document.
t.test('the built service loads TypeBox as one module and serves the committed OpenAPI document', async (t) => {
  const bundle = await readFile(new URL('../dist/schemas/typebox.js', import.meta.url), 'utf8')
  t.notMatch(bundle, /^\s*(import|export)\s[^;]*\sfrom\s/m, 'the bundle imports and re-exports no other module')

  const directory = await temporaryDirectory(t)
  const port = await freePort()
  const server = startServer({
    PORT: String(port),
    API_KEY: testApiKey,
    AUTH_STATE_DIR: join(directory, 'auth_state'),
    LOG_DIR: join(directory, 'logs'),
    DATA_DIR: join(directory, 'data')
  })
  t.teardown(async () => {
    server.child.kill('SIGTERM')
    await server.exited
  })
  await waitForOutput(server, /Server listening/)
  const served = await (await fetch(`http://127.0.0.1:${port}/docs/json`)).json() as Record<string, unknown>
  const committed = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as Record<string, unknown>
  // Only the servers differ: the live document names this port and the docs' own address.
  t.same({ ...served, servers: undefined }, { ...committed, servers: undefined })
})
