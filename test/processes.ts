import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

// Child processes for tests and benchmarks that run the service (or the simulator) as people do.

export const projectRoot = fileURLToPath(new URL('..', import.meta.url))

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
