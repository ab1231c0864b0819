// Several service processes (the built entry) on one real redis-server against the simulator,
// each with its own directories: nothing shared but Redis. Used by the cluster tests and by the
// cluster benchmark (bench/cluster.ts).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openRedisStateStore } from '../../src/state/redis-state-store.js'
import type { SessionMetadata, StateStore } from '../../src/state/state-store.js'
import { serviceEnvironment, temporaryDirectory, testApiKey, type TestContext } from '../helper.js'
import { freePort, spawnNode, stopProcess, waitForOutput, type NodeProcess } from '../processes.js'
import { startRedisServer, type RedisServer } from '../state/redis-server.js'
import { startSimulator, type WhatsAppSimulator } from '../sim/index.js'

const entry = fileURLToPath(new URL('../../dist/src/server.js', import.meta.url))
export const clusterLeaseMs = 3000
export const clusterHeaders = { 'x-api-key': testApiKey, 'content-type': 'application/json' }

export interface Instance {
  id: string
  base: string
  process: NodeProcess
  directory: string
}

export interface InstanceOptions {
  id: string
  // A running simulator: its WebSocket URL and a file with its media host's certificate.
  simulator: { url: string, caFile: string }
  // Omitted: a single instance on the embedded store.
  redisUrl?: string
  leaseMs?: number
  directory?: string
  env?: Record<string, string>
}

// One built service process on its own port and folders, stopped at teardown.
export async function startInstance (t: TestContext, options: InstanceOptions): Promise<Instance> {
  const { id } = options
  const directory = options.directory ?? await temporaryDirectory(t)
  const port = await freePort()
  const started = spawnNode([entry], {
    ...serviceEnvironment({ port, directory, simulator: options.simulator }),
    ...(options.redisUrl === undefined
      ? {}
      : { REDIS_URL: options.redisUrl, OTP_SECRET: 'shared-otp-secret-of-the-cluster', INSTANCE_ID: id, SESSION_LEASE_MS: String(options.leaseMs ?? clusterLeaseMs) }),
    ...options.env
  })
  t.teardown(async () => {
    // CLUSTER_TEST_OUTPUT=<folder> keeps each instance's output there, to read after a failure.
    if (process.env.CLUSTER_TEST_OUTPUT !== undefined) await writeFile(join(process.env.CLUSTER_TEST_OUTPUT, `${id}.log`), started.output())
    // A stopped (SIGSTOP) child never answers SIGTERM.
    started.child.kill('SIGCONT')
    await stopProcess(started.child)
  })
  await waitForOutput(started, /Server listening/)
  return { id, base: `http://127.0.0.1:${port}`, process: started, directory }
}

export interface ClusterStartOptions {
  directory?: string
  // false: a single instance on the embedded store, beside the cluster.
  redis?: boolean
  env?: Record<string, string>
}

export interface Cluster {
  simulator: WhatsAppSimulator
  redis: RedisServer
  store: StateStore
  caFile: string
  // Counted from the cluster's start: QR codes scanned, and new devices registered (a socket that
  // logged in without stored credentials asks for one).
  links: { scans: number, registrations: number }
  start: (id: string, options?: ClusterStartOptions) => Promise<Instance>
}

// The simulator, a redis-server and the test's own client on it; instances are started on demand.
export async function startCluster (t: TestContext): Promise<Cluster> {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const redis = await startRedisServer(t)
  const store = await openRedisStateStore({ url: redis.url })
  t.teardown(() => store.close())
  const caFile = join(await temporaryDirectory(t), 'simulator-ca.pem')
  await writeFile(caFile, simulator.mediaCertificate)
  const links = { scans: 0, registrations: 0 }
  simulator.on('paired', () => { links.scans++ })
  simulator.on('registration', () => { links.registrations++ })

  async function start (id: string, options: ClusterStartOptions = {}): Promise<Instance> {
    return await startInstance(t, {
      id,
      simulator: { url: simulator.url, caFile },
      ...(options.redis === false ? {} : { redisUrl: redis.url }),
      ...(options.directory === undefined ? {} : { directory: options.directory }),
      ...(options.env === undefined ? {} : { env: options.env })
    })
  }
  return { simulator, redis, store, caFile, links, start }
}

export interface Answer {
  status: number
  headers: Headers
  body: Record<string, any>
}

// One API call to the instance at `base`, with the test's key, and its JSON answer.
export async function call (base: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? { 'x-api-key': testApiKey } : clusterHeaders,
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, any> }
}

// Polls `check` until it gives a value: for what the processes announce nowhere else.
export async function until<T> (what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const found = await check()
    if (found !== undefined) return found
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`)
}

async function metadata (store: StateStore, sessionId: string): Promise<SessionMetadata | undefined> {
  return await store.sessions.get(sessionId)
}

// Connected, as written by the holder of a live lease (not by an instance that lost it).
export async function connectedOn (
  store: StateStore,
  sessionId: string,
  accept: (holder: string) => boolean = () => true
): Promise<string | undefined> {
  const [found, lease] = await Promise.all([metadata(store, sessionId), store.leases.holder(sessionId)])
  if (found?.status !== 'connected' || lease === undefined || found.holder !== lease.instanceId || !accept(lease.instanceId)) return undefined
  return lease.instanceId
}

export async function link (cluster: Cluster, instance: Instance, sessionId: string, phone: string): Promise<void> {
  const created = await fetch(`${instance.base}/api/sessions/create`, { method: 'POST', headers: clusterHeaders, body: JSON.stringify({ sessionId }) })
  if (created.status !== 201) throw new Error(`create ${sessionId}: ${created.status} ${await created.text()}`)
  const qr = await (await fetch(`${instance.base}/api/sessions/${sessionId}/qr`, { headers: clusterHeaders })).json() as { data: { qr: string } }
  await cluster.simulator.scanQr(qr.data.qr, { phone })
  await until(`${sessionId} connected`, async () => await connectedOn(cluster.store, sessionId))
}

// Numbers known to the simulator as WhatsApp users, a new one on each call, from `first` on.
export function recipients (simulator: WhatsAppSimulator, first: number): () => string {
  let next = first
  return () => {
    const phone = String(next++)
    simulator.addContact(phone)
    return phone
  }
}

// The code in the next OTP message the phone gets.
export async function codeAt (simulator: WhatsAppSimulator, phone: string): Promise<string> {
  const text = (await simulator.nextMessage(phone)).text ?? ''
  const code = /: (\d+)\n/.exec(text)?.[1]
  if (code === undefined) throw new Error(`no code in ${JSON.stringify(text)}`)
  return code
}

// Lease holder -> the sessions it holds ('none' for a session without a lease).
export async function holders (store: StateStore, sessionIds: string[]): Promise<Map<string, string[]>> {
  const byInstance = new Map<string, string[]>()
  for (const sessionId of sessionIds) {
    const holder = (await store.leases.holder(sessionId))?.instanceId ?? 'none'
    byInstance.set(holder, [...byInstance.get(holder) ?? [], sessionId])
  }
  return byInstance
}
