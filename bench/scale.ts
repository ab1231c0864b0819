// `npm run bench:scale`: many linked sessions in one process, and a restart that brings them back.
// For each N: N sessions linked through the service beside N raw Baileys sockets (RSS of each,
// same run, same simulator); then the built service restarted on those N folders: time until the
// API answers, time until all N are connected, and p99 latency of GET /api/health and of an OTP
// verify while the restore runs. Merges a `scale` key into bench/results.json.
import autocannon from 'autocannon'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, projectRoot, runForResult, serviceStart, startProcess, stopProcess } from './processes.js'
import { loadConfig } from '../src/config.js'
import { spawnNode } from '../test/processes.js'

const sessionCounts = (process.env.BENCH_SCALE_SESSIONS ?? '50,300,500').split(',').map(Number)
// The service's own default unless BENCH_RESTORE_CONCURRENCY names others ("2,4,8": each restart
// measured on the same linked folders, one row each, to choose the default by measurement).
const restoreConcurrencies = (process.env.BENCH_RESTORE_CONCURRENCY ?? String(loadConfig({}).sessionRestoreConcurrency)).split(',').map(Number)
// When set, each restarted service runs under `node --cpu-prof` and leaves its profile here.
const cpuProfileDirectory = process.env.BENCH_CPU_PROFILE_DIR
const apiKey = 'bench-api-key-0123456789'
const mebibyte = 1024 * 1024
const round = (value: number, digits = 2): number => Number(value.toFixed(digits))

const workDirectory = await mkdtemp(join(tmpdir(), 'otp-api-scale-'))
const simulatorPort = await freePort()
const controlPort = await freePort()
const certificateFile = join(workDirectory, 'simulator-cert.pem')
const simulatorUrl = `ws://127.0.0.1:${simulatorPort}/ws/chat`
const simulator = await startProcess(['--import', 'tsx', 'test/sim/cli.ts'], {
  SIM_PORT: String(simulatorPort), SIM_CONTROL_PORT: String(controlPort), SIM_CERT_FILE: certificateFile
}, /control API/)

const worker = async (mode: 'service' | 'raw', sessions: number, directory: string): Promise<Record<string, number>> =>
  await runForResult(['--expose-gc', '--import', 'tsx', 'bench/session-worker.ts', JSON.stringify({
    mode, sessions, directory, messages: 1, certificateFile, simulatorUrl, controlUrl: `http://127.0.0.1:${controlPort}`
  })])

interface HealthBody { data: { memory: { rssBytes: number }, checks: { sessions: { connected: number, restore: { pending: number } } } } }

// Restarts the built service on the folders the service worker linked, and measures it from the
// outside as a client would: first answer, all connected, latencies under load during the restore.
async function measureRestart (sessions: number, directory: string, restoreConcurrency: number): Promise<Record<string, number>> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const headers = { 'x-api-key': apiKey }
  const started = performance.now()
  const profiling = cpuProfileDirectory === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfileDirectory, `restart-${sessions}-${restoreConcurrency}`)}`]
  const service = spawnNode([...profiling, ...serviceStart], {
    ...process.env,
    PORT: String(port),
    API_KEY: apiKey,
    WA_WEB_SOCKET_URL: simulatorUrl,
    WA_EXTRA_CA_FILE: certificateFile,
    AUTH_STATE_DIR: join(directory, 'auth_state'),
    LOG_DIR: join(directory, 'restart-logs'),
    DATA_DIR: join(directory, 'data'),
    LOG_LEVEL: 'warn',
    WA_LOG_LEVEL: 'error',
    RATE_LIMIT_MAX: '1000000',
    SESSION_RESTORE_CONCURRENCY: String(restoreConcurrency)
  })
  const health = async (): Promise<HealthBody | null> => await fetch(`${base}/api/health`, { headers }).then(async (response) => await response.json() as HealthBody, () => null)
  try {
    let body = await health()
    while (body === null) {
      if (service.child.exitCode !== null) throw new Error(`service exited: ${service.output()}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
      body = await health()
    }
    const apiAnsweringMs = performance.now() - started
    // Load while the restore runs: health and an OTP verify (no code pending, so it answers 404
    // after the whole verify path: validation, normalisation, the OTP store).
    const loadDuringRestore = async (path: string, method: 'GET' | 'POST', payload?: string): Promise<autocannon.Result> => await autocannon({
      url: base + path,
      method,
      connections: 4,
      duration: 3,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: payload })
    })
    const [healthLoad, verifyLoad] = await Promise.all([
      loadDuringRestore('/api/health', 'GET'),
      loadDuringRestore('/api/otp/verify', 'POST', JSON.stringify({ to: '628120000001', code: '123456' }))
    ])
    const pendingAfterLoad = (await health())?.data.checks.sessions.restore.pending ?? -1
    while ((body?.data.checks.sessions.connected ?? 0) < sessions) {
      if (service.child.exitCode !== null) throw new Error(`service exited: ${service.output()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
      body = await health()
    }
    const allConnectedMs = performance.now() - started
    return {
      apiAnsweringMs,
      allConnectedMs,
      healthP99Ms: healthLoad.latency.p99,
      verifyP99Ms: verifyLoad.latency.p99,
      restorePendingWhenLoadEnded: pendingAfterLoad,
      rssAfterRestore: body?.data.memory.rssBytes ?? 0
    }
  } finally {
    await stopProcess(service.child)
  }
}

const resultsFile = join(projectRoot, 'bench', 'results.json')
// Written after each N, so a long run that is cut off keeps what it measured.
async function writeResults (figures: Array<Record<string, number>>): Promise<void> {
  const existing = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}')) as Record<string, unknown>
  // A run for some N (BENCH_SCALE_SESSIONS=50) replaces those rows and keeps the others.
  const rowKey = (row: Record<string, number>): string => `${row.sessions}/${row.restoreConcurrency}`
  const measured = new Set(figures.map(rowKey))
  const existingRows = (existing.scale as { sessions?: Array<Record<string, number>> } | undefined)?.sessions ?? []
  const kept = existingRows.filter((row) => !measured.has(rowKey(row)))
  existing.scale = {
    measuredAt: new Date().toISOString(),
    machine: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      loadAverage: os.loadavg().map((load) => round(load))
    },
    defaultRestoreConcurrency: loadConfig({}).sessionRestoreConcurrency,
    sessions: [...kept, ...figures]
      .sort((left, right) => left.sessions - right.sessions || left.restoreConcurrency - right.restoreConcurrency)
  }
  await writeFile(resultsFile, JSON.stringify(existing, null, 2) + '\n')
}

const figures: Array<Record<string, number>> = []
try {
  for (const sessions of sessionCounts) {
    const serviceDirectory = join(workDirectory, `service-${sessions}`)
    const service = await worker('service', sessions, serviceDirectory)
    const raw = await worker('raw', sessions, join(workDirectory, `raw-${sessions}`))
    // Reference under the same load: the same service started on an empty auth_state.
    const emptyStart = await measureRestart(0, join(workDirectory, `empty-${sessions}`), restoreConcurrencies[0]!)
    const serviceRss = service.baselineRss + service.rssPerSession * sessions
    const rawRss = raw.baselineRss + raw.rssPerSession * sessions
    for (const restoreConcurrency of restoreConcurrencies) {
      const restart = await measureRestart(sessions, serviceDirectory, restoreConcurrency)
      figures.push({
        sessions,
        restoreConcurrency,
        serviceRssMiB: round(serviceRss / mebibyte, 1),
        rawBaileysRssMiB: round(rawRss / mebibyte, 1),
        rssRatio: round(serviceRss / rawRss),
        serviceMiBPerSession: round(service.rssPerSession / mebibyte),
        rawBaileysMiBPerSession: round(raw.rssPerSession / mebibyte),
        restartApiAnsweringMs: Math.round(restart.apiAnsweringMs),
        emptyStartApiAnsweringMs: Math.round(emptyStart.apiAnsweringMs),
        restartAllConnectedMs: Math.round(restart.allConnectedMs),
        healthP99DuringRestoreMs: restart.healthP99Ms,
        otpVerifyP99DuringRestoreMs: restart.verifyP99Ms,
        restorePendingWhenLoadEnded: restart.restorePendingWhenLoadEnded,
        restartedServiceRssMiB: round(restart.rssAfterRestore / mebibyte, 1),
        // The machine is shared: the figures of a row hold for the load it was measured under.
        loadAverage1m: round(os.loadavg()[0])
      })
      await writeResults(figures)
    }
    process.stderr.write(`measured ${sessions} session(s)\n`)
  }
} finally {
  await stopProcess(simulator)
  await rm(workDirectory, { recursive: true, force: true })
}

console.log('\nLinked sessions: RSS of the service beside raw Baileys with as many sockets; restart of the built service on them')
console.table(figures)
console.log('merged into bench/results.json (key "scale")')
