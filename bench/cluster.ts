// Several instances on Redis, for `npm run bench`: the verify route through one instance on Redis
// (beside the embedded default measured by bench/http.ts in the same run), and how long the
// sessions of an instance take to be connected elsewhere after kill -9 and after SIGTERM.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { openRedisStateStore } from '../src/state/redis-state-store.js'
import type { StateStore } from '../src/state/state-store.js'
import { connectedOn, holders, startInstance, until, type Instance } from '../test/helpers/cluster.js'
import { startRedisServer } from '../test/state/redis-server.js'
import type { TestContext } from '../test/helper.js'
import { seedOtpCodes } from './otp-seed.js'
import { apiKey, loadTestSettings, measure, startBuilt, waitUntilAnswering, type HttpFigures, type VerifyLoadOptions } from './http.js'
import { freePort, serviceStart, stopProcess } from './processes.js'

export interface ClusterBenchOptions extends VerifyLoadOptions {
  // Linked sessions spread over two instances before one of them is killed.
  sessions: number
  leaseMs: number
}

export interface MoveFigures {
  // The sessions the stopped instance held, all connected again on the others after `ms`.
  sessionsMoved: number
  ms: number
}

export interface ClusterFigures {
  verifyOnRedis: HttpFigures[]
  failover: {
    sessionLeaseMs: number
    sessions: number
    afterKill: MoveFigures
    afterSigterm: MoveFigures
    // 440 conflicts the simulator counted over the whole failover run: two sockets for one account.
    replacedConnections: number
  }
}

const headers = { 'content-type': 'application/json', 'x-api-key': apiKey }

// Cleanup in reverse order, for the helpers shared with the tests (they take a teardown).
function cleanupContext (): TestContext & { cleanup: () => Promise<void> } {
  const steps: Array<() => unknown> = []
  return {
    teardown: (step) => { steps.push(step) },
    async cleanup () {
      for (const step of steps.reverse()) await step()
    }
  }
}

async function control (controlUrl: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(controlUrl + path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`simulator control ${path}: ${response.status}`)
  return await response.json() as Record<string, unknown>
}

// Created, its QR scanned by the simulated phone, connected on whichever instance holds it.
async function linkThrough (base: string, controlUrl: string, store: StateStore, sessionId: string, phone: string): Promise<void> {
  const created = await fetch(`${base}/api/sessions/create`, { method: 'POST', headers, body: JSON.stringify({ sessionId }) })
  if (created.status !== 201) throw new Error(`create ${sessionId}: ${created.status} ${await created.text()}`)
  const qr = await (await fetch(`${base}/api/sessions/${sessionId}/qr`, { headers })).json() as { data: { qr: string } }
  await control(controlUrl, '/scan', { qr: qr.data.qr, phone })
  await until(`${sessionId} connected`, async () => await connectedOn(store, sessionId), 60_000, 20)
}

// The same three verify loads bench/http.ts measures on the embedded store, on one instance with
// REDIS_URL (a redis-server of its own on loopback, no persistence).
async function measureVerifyOnRedis (options: ClusterBenchOptions): Promise<HttpFigures[]> {
  const context = cleanupContext()
  try {
    const redis = await startRedisServer(context)
    const store = await openRedisStateStore({ url: redis.url })
    context.teardown(async () => await store.close())
    const directory = join(options.workDirectory, 'cluster-verify')
    await mkdir(directory, { recursive: true })
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const logFile = join(directory, 'service.out')
    // The settings of bench/http.ts's service, plus Redis.
    const settings = {
      ...loadTestSettings(port, directory, options),
      REDIS_URL: redis.url,
      OTP_SECRET: 'bench-otp-secret-of-the-cluster',
      INSTANCE_ID: 'bench-redis'
    }
    const phoneFor = (index: number): string => `62814${String(index).padStart(7, '0')}`
    // One right code per request of the right-code load, as bench/http.ts does on the embedded store.
    const rightCodePhones = Array.from({ length: options.rightCodeNumbers }, (_, index) => phoneFor(1_000_000 + index))
    const rightCodes = await seedOtpCodes(settings, rightCodePhones, 3600)
    const service = await startBuilt(serviceStart, settings, logFile)
    context.teardown(async () => await stopProcess(service))
    await waitUntilAnswering(service, `${base}/api/health`, logFile)

    const sessionIds = Array.from({ length: 5 }, (_, index) => `redis-${index}`)
    for (const [index, sessionId] of sessionIds.entries()) await linkThrough(base, options.controlUrl, store, sessionId, `62813000000${index}`)
    const codedPhones = Array.from({ length: options.wrongCodeNumbers }, (_, index) => phoneFor(index))
    const codes = new Map<string, string>()
    let next = 0
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < codedPhones.length) {
        const index = next++
        const phone = codedPhones[index]!
        await control(options.controlUrl, '/contacts', { phone })
        const response = await fetch(`${base}/api/messages/${sessionIds[index % sessionIds.length]!}/otp`, { method: 'POST', headers, body: JSON.stringify({ to: phone }) })
        const parsed = await response.json() as { data?: { code?: string } }
        if (parsed.data?.code === undefined) throw new Error(`OTP to ${phone}: ${response.status} ${JSON.stringify(parsed)}`)
        codes.set(phone, parsed.data.code)
      }
    }))

    const verify = (to: string, code: string): { method: 'POST', path: string, headers: Record<string, string>, body: string } =>
      // A copy each: autocannon writes the content-length into the headers it is given.
      ({ method: 'POST', path: '/api/otp/verify', headers: { ...headers }, body: JSON.stringify({ to, code }) })
    const wrong = (code: string): string => code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10)
    const noCodeRequests = Array.from({ length: 1000 }, (_, index) => verify(phoneFor(5_000_000 + index), '123456'))
    const wrongCodeRequests = codedPhones.map((phone) => verify(phone, wrong(codes.get(phone)!)))
    const rightCodeRequests = [...rightCodes].map(([phone, code]) => verify(phone, code))
    return [
      await measure('POST /api/otp/verify, no code (404), on Redis', { url: base, requests: noCodeRequests, expectedStatus: 404 }),
      await measure('POST /api/otp/verify, wrong code (400), on Redis', { url: base, requests: wrongCodeRequests, expectedStatus: 400 }),
      await measure('POST /api/otp/verify, right code (200), on Redis', { url: base, requests: rightCodeRequests, expectedStatus: 200, amount: rightCodeRequests.length })
    ]
  } finally {
    await context.cleanup()
  }
}

// Until every one of `sessionIds` is connected on another instance than `leaving`, from `since`.
async function movedWithin (store: StateStore, sessionIds: string[], leaving: Instance, since: number): Promise<MoveFigures> {
  await until('sessions connected elsewhere', async () => {
    const elsewhere = (holder: string): boolean => holder !== leaving.id
    const found = await Promise.all(sessionIds.map(async (sessionId) => await connectedOn(store, sessionId, elsewhere)))
    return found.every((holder) => holder !== undefined) ? true : undefined
  }, 120_000, 20)
  return { sessionsMoved: sessionIds.length, ms: Date.now() - since }
}

// Waits until the sessions are spread (no instance above its fair share plus one, all connected)
// and gives the instance holding the most, with what it holds.
async function busiest (store: StateStore, sessionIds: string[], live: Instance[]): Promise<{ instance: Instance, sessionIds: string[] }> {
  const limit = Math.ceil(sessionIds.length / live.length) + 1
  const byInstance = await until('sessions spread', async () => {
    const found = await holders(store, sessionIds)
    if (found.has('none') || [...found.values()].some((held) => held.length > limit)) return undefined
    const connected = await Promise.all(sessionIds.map(async (sessionId) => await connectedOn(store, sessionId)))
    return connected.every((holder) => holder !== undefined) ? found : undefined
  }, 120_000)
  const [id, held] = [...byInstance].sort(([, first], [, second]) => second.length - first.length)[0]!
  return { instance: live.find((instance) => instance.id === id)!, sessionIds: held }
}

// Two instances share the linked sessions; the busier one is killed with -9 and its sessions are
// timed until connected on the other. Then a third instance joins, and the busier of the two
// left gets SIGTERM: its sessions are timed until connected on the third.
async function measureFailover (options: ClusterBenchOptions): Promise<ClusterFigures['failover']> {
  const context = cleanupContext()
  try {
    const redis = await startRedisServer(context)
    const store = await openRedisStateStore({ url: redis.url })
    context.teardown(async () => await store.close())
    const replacedBefore = Number((await control(options.controlUrl, '/replaced')).total)
    const start = async (id: string): Promise<Instance> => await startInstance(context, {
      id,
      simulator: { url: options.simulatorUrl, caFile: options.certificateFile },
      redisUrl: redis.url,
      leaseMs: options.leaseMs,
      env: { API_KEY: apiKey }
    })
    const first = await start('failover-a')
    const second = await start('failover-b')
    const sessionIds = Array.from({ length: options.sessions }, (_, index) => `failover-${index}`)
    for (const [index, sessionId] of sessionIds.entries()) await linkThrough(first.base, options.controlUrl, store, sessionId, `62815${String(index).padStart(7, '0')}`)

    const killed = await busiest(store, sessionIds, [first, second])
    const killedAt = Date.now()
    killed.instance.process.child.kill('SIGKILL')
    const afterKill = await movedWithin(store, killed.sessionIds, killed.instance, killedAt)
    process.stderr.write(`  kill -9: ${afterKill.sessionsMoved} sessions connected elsewhere in ${afterKill.ms} ms (lease ${options.leaseMs} ms)\n`)

    const survivor = killed.instance === first ? second : first
    const third = await start('failover-c')
    const leaving = await busiest(store, sessionIds, [survivor, third])
    const stoppedAt = Date.now()
    const stopped = stopProcess(leaving.instance.process.child)
    const afterSigterm = await movedWithin(store, leaving.sessionIds, leaving.instance, stoppedAt)
    await stopped
    process.stderr.write(`  SIGTERM: ${afterSigterm.sessionsMoved} sessions connected elsewhere in ${afterSigterm.ms} ms\n`)
    const replacedConnections = Number((await control(options.controlUrl, '/replaced')).total) - replacedBefore
    return { sessionLeaseMs: options.leaseMs, sessions: options.sessions, afterKill, afterSigterm, replacedConnections }
  } finally {
    await context.cleanup()
  }
}

export async function measureCluster (options: ClusterBenchOptions): Promise<ClusterFigures> {
  const verifyOnRedis = await measureVerifyOnRedis(options)
  const failover = await measureFailover(options)
  return { verifyOnRedis, failover }
}

// The README rows: each Redis figure beside the embedded one of the same run.
export function clusterTables (figures: ClusterFigures, embedded: HttpFigures[]): string {
  const verifyRows = figures.verifyOnRedis.map((onRedis) => {
    const reference = embedded.find((figure) => figure.path === onRedis.path.replace(', on Redis', ''))
    const ratio = reference === undefined ? '' : (onRedis.requestsPerSecond / reference.requestsPerSecond).toFixed(2)
    return `| ${onRedis.path} | ${onRedis.requestsPerSecond} | ${reference?.requestsPerSecond ?? ''} | ${ratio} | ${onRedis.latencyP50Ms} | ${onRedis.latencyP99Ms} | ${onRedis.unexpected ?? ''} |`
  })
  const { failover } = figures
  return [
    '| one instance on Redis, 50 connections | requests/s | embedded requests/s | ratio | p50 ms | p99 ms | other status |',
    '|---|---|---|---|---|---|---|',
    ...verifyRows,
    '',
    `| ${failover.sessions} linked sessions on two instances, SESSION_LEASE_MS=${failover.sessionLeaseMs} | sessions moved | until all connected elsewhere | 440 conflicts |`,
    '|---|---|---|---|',
    `| holder killed with -9 | ${failover.afterKill.sessionsMoved} | ${failover.afterKill.ms} ms | ${failover.replacedConnections} |`,
    `| holder stopped with SIGTERM (a third instance joined) | ${failover.afterSigterm.sessionsMoved} | ${failover.afterSigterm.ms} ms | |`
  ].join('\n')
}
