import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import type { TestContext } from '../helper.js'
import { temporaryDirectory } from '../helper.js'
import { freePort } from '../processes.js'

export interface RedisServer {
  url: string
  port: number
  stop: () => Promise<void>
  // Starts it again on the same port (after stop), empty: nothing was persisted.
  start: () => Promise<void>
}

export const redisServerMissing = 'redis-server was not found on PATH; the Redis tests need it. Install it with `apt-get install redis-server` (Debian, Ubuntu) or `brew install redis` (macOS); .ci/run installs it when missing.'

// Fails (never skips) when there is no redis-server: a missing server must not look like a pass.
export function findRedisServer (path = process.env.PATH): string {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8', env: { PATH: path } })
  if (found.error !== undefined || found.status !== 0) throw new Error(redisServerMissing)
  return 'redis-server'
}

// A redis-server of the test's own: a free port, loopback only, nothing written to disk, stopped
// at teardown.
export async function startRedisServer (t: TestContext): Promise<RedisServer> {
  const command = findRedisServer()
  const directory = await temporaryDirectory(t, 'redis-test-')
  const port = await freePort()
  let stop = async (): Promise<void> => {}

  async function start (): Promise<void> {
    const child = spawn(command, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = once(child, 'exit')
    stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await exited
    }
    let output = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) resolve()
      })
      child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
      exited.then(() => reject(new Error(`redis-server exited before it was ready: ${output}`)), reject)
    })
  }

  t.teardown(async () => await stop())
  await start()
  return { url: `redis://127.0.0.1:${port}`, port, stop: async () => await stop(), start }
}
