import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { readdir, readFile, readlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

// Child processes for tests and benchmarks that run the service (or the simulator) as people do.

export const projectRoot = fileURLToPath(new URL('..', import.meta.url))

// What `npm start` runs once the service is built, node's own arguments and the entry, relative to
// the project root. The Docker image's CMD runs the same (test/start-command.test.ts).
export const serviceStart: string[] = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } })
  .scripts.start.split('&& node ')[1]!.split(' ')

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  server.close()
  await once(server, 'close')
  return port
}

export interface NodeProcess {
  child: ChildProcess
  // Everything it printed so far, stdout and stderr together.
  output: () => string
  // Listened for from the start, so an early exit is never missed.
  exited: Promise<unknown>
}

// `env` is the whole environment of the child: pass process.env in explicitly to inherit it.
export function spawnNode (args: string[], env: Record<string, string | undefined>): NodeProcess {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  return { child, output: () => output, exited: once(child, 'exit') }
}

export async function waitForOutput ({ child, output, exited }: NodeProcess, pattern: RegExp): Promise<void> {
  const exit = exited.then(() => 'exit')
  while (!pattern.test(output())) {
    const event = await Promise.race([once(child.stdout!, 'data'), once(child.stderr!, 'data'), exit])
    if (event === 'exit' && !pattern.test(output())) throw new Error(`${String(child.spawnargs.slice(1).join(' '))} exited: ${output()}`)
  }
}

export async function startNode (args: string[], env: Record<string, string | undefined>, ready: RegExp): Promise<NodeProcess> {
  const started = spawnNode(args, env)
  await waitForOutput(started, ready)
  return started
}

export async function stopProcess (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}

// Which of `pids` holds the local end of the TCP connection from `localPort` to `remotePort` (on
// 127.0.0.1): the socket's inode from the kernel's table, then the process with a descriptor on
// it. Linux only (/proc), as the tests that run several service processes are.
export async function connectionOwner (pids: number[], localPort: number, remotePort: number): Promise<number | undefined> {
  const hexPort = (port: number): string => `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  // Columns: slot, local address, remote address, state, queues, timer, retransmits, uid, timeout, inode.
  const connection = (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .find((columns) => columns[1]?.endsWith(hexPort(localPort)) === true && columns[2]?.endsWith(hexPort(remotePort)) === true)
  if (connection?.[9] === undefined) return undefined
  const socket = `socket:[${connection[9]}]`
  for (const pid of pids) {
    // A process that exited meanwhile has no descriptors left.
    const descriptors = await readdir(`/proc/${pid}/fd`).catch(() => [])
    for (const descriptor of descriptors) {
      if (await readlink(`/proc/${pid}/fd/${descriptor}`).catch(() => '') === socket) return pid
    }
  }
  return undefined
}
