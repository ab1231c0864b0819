import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { projectRoot, startNode, type NodeProcess } from '../test/processes.js'

export { freePort, projectRoot, serviceStart, stopProcess } from '../test/processes.js'

// Benchmarked processes inherit this environment (PATH, NODE_OPTIONS, …) plus their own settings.
export async function startProcess (args: string[], env: Record<string, string>, ready: RegExp): Promise<NodeProcess['child']> {
  return (await startNode(args, { ...process.env, ...env }, ready)).child
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
