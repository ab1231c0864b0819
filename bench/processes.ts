import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

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

// Starts a node process and resolves once its output matches `ready`.
export async function startProcess (args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  while (!ready.test(output)) {
    output += await Promise.race([
      once(child.stdout!, 'data').then(([data]) => String(data)),
      once(child.stderr!, 'data').then(([data]) => String(data)),
      once(child, 'exit').then(() => { throw new Error(`${args.join(' ')} exited: ${output}`) })
    ])
  }
  return child
}

// Runs a node process to its end and returns the JSON it printed on its RESULT line.
export async function runForResult (args: string[]): Promise<Record<string, number>> {
  const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  const line = output.split('\n').find((candidate) => candidate.startsWith('RESULT '))
  if (code !== 0 || line === undefined) throw new Error(`${args.join(' ')} failed (${String(code)}): ${output}`)
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, number>
}

export async function stopProcess (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}
