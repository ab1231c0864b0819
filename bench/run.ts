// `npm run bench`: each figure measured in one run beside its reference, so the ratio holds on a
// noisy machine. Writes bench/results.json and prints a table.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, projectRoot, runForResult, startProcess, stopProcess } from './processes.js'
import { measureHttp, type HttpFigures } from './http.js'

const sessionCounts = (process.env.BENCH_SESSIONS ?? '1,10,50').split(',').map(Number)
const httpRequests = Number(process.env.BENCH_HTTP_REQUESTS ?? 1000)
const messagesForWrites = 20
const workDirectory = await mkdtemp(join(tmpdir(), 'otp-api-bench-'))
const simulatorPort = await freePort()
const controlPort = await freePort()
const certificateFile = join(workDirectory, 'simulator-cert.pem')
const simulator = await startProcess(['--import', 'tsx', 'test/sim/cli.ts'], {
  SIM_PORT: String(simulatorPort), SIM_CONTROL_PORT: String(controlPort), SIM_CERT_FILE: certificateFile
}, /control API/)

const worker = async (mode: string, sessions: number, directory: string): Promise<Record<string, number>> =>
  await runForResult(['--expose-gc', '--import', 'tsx', 'bench/session-worker.ts', JSON.stringify({
    mode,
    sessions,
    directory,
    messages: messagesForWrites,
    certificateFile,
    simulatorUrl: `ws://127.0.0.1:${simulatorPort}/ws/chat`,
    controlUrl: `http://127.0.0.1:${controlPort}`
  })])

const mebibyte = 1024 * 1024
const round = (value: number, digits = 2): number => Number(value.toFixed(digits))

interface SessionFigures { sessions: number, serviceRssPerSessionMiB: number, rawBaileysRssPerSessionMiB: number, overheadRatio: number, restoreAllConnectedMs: number, credentialWritesPerMessage: number, rawBaileysFileWritesPerMessage: number }
const figures: SessionFigures[] = []
let http: HttpFigures[] = []
try {
  http = await measureHttp({
    workDirectory,
    simulatorUrl: `ws://127.0.0.1:${simulatorPort}/ws/chat`,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    certificateFile,
    requests: httpRequests
  })
  process.stderr.write('measured HTTP\n')
  for (const sessions of sessionCounts) {
    const serviceDirectory = join(workDirectory, `service-${sessions}`)
    const service = await worker('service', sessions, serviceDirectory)
    const raw = await worker('raw', sessions, join(workDirectory, `raw-${sessions}`))
    const restore = await worker('restore', sessions, serviceDirectory)
    figures.push({
      sessions,
      serviceRssPerSessionMiB: round(service.rssPerSession / mebibyte),
      rawBaileysRssPerSessionMiB: round(raw.rssPerSession / mebibyte),
      overheadRatio: round(service.rssPerSession / raw.rssPerSession),
      restoreAllConnectedMs: Math.round(restore.restoreMs),
      credentialWritesPerMessage: round(service.writesPerMessage),
      rawBaileysFileWritesPerMessage: round(raw.writesPerMessage)
    })
    process.stderr.write(`measured ${sessions} session(s)\n`)
  }
} finally {
  await stopProcess(simulator)
  await rm(workDirectory, { recursive: true, force: true })
}

const resultsFile = join(projectRoot, 'bench', 'results.json')
// Other benchmarks (bench/scale.ts) keep their own keys in the same file.
const existing = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}')) as Record<string, unknown>
const results = {
  ...existing,
  measuredAt: new Date().toISOString(),
  machine: { node: process.version, platform: process.platform, arch: process.arch },
  http,
  sessions: figures
}
await writeFile(resultsFile, JSON.stringify(results, null, 2) + '\n')

console.log('\nHTTP, 10 connections, one OTP per distinct number (API, queue, real Baileys, simulator) beside a bare Fastify route')
console.table(http)
console.log('\nSessions on the simulator (RSS after GC, per connected session; raw = Baileys alone with its own auth state)')
console.table(figures)
console.log('written to bench/results.json')
