// `npm run bench`: each figure measured in one run beside its reference, so the ratio holds on a
// noisy machine. Writes bench/results.json, prints the table and puts it in the README.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, projectRoot, runForResult, serviceStart, startProcess, stopProcess } from './processes.js'
import { measureService, requiredFeaturesNamed, type HttpFigures, type ServiceFigures, type VerifyLoadOptions } from './http.js'
import { clusterTables, measureCluster, type ClusterFigures } from './cluster.js'
import { measureSweep, measureWebhookBacklog, type SweepFigures, type WebhookBacklogFigures } from './embedded-store.js'

const sessionCounts = (process.env.BENCH_SESSIONS ?? '1,10,50').split(',').filter((count) => count !== '').map(Number)
const durationSeconds = Number(process.env.BENCH_SECONDS ?? 8)
const verifyLoadRequests = Number(process.env.BENCH_VERIFY_REQUESTS ?? 200_000)
const webhookBacklogs = (process.env.BENCH_WEBHOOK_BACKLOG ?? '1000,50000').split(',').filter((count) => count !== '').map(Number)
const messagesForWrites = 20
const workDirectory = await mkdtemp(join(tmpdir(), 'otp-api-bench-'))
const simulatorPort = await freePort()
const controlPort = await freePort()
const certificateFile = join(workDirectory, 'simulator-cert.pem')
const simulator = await startProcess(['--import', 'tsx', 'test/sim/cli.ts'], {
  SIM_PORT: String(simulatorPort), SIM_CONTROL_PORT: String(controlPort), SIM_CERT_FILE: certificateFile
}, /control API/)

// Compiled by `prebench` (tsconfig.bench.json), so no TypeScript loader shares its memory.
const worker = async (mode: string, sessions: number, directory: string): Promise<Record<string, number>> =>
  await runForResult(['--expose-gc', 'dist/bench/session-worker.js', JSON.stringify({
    mode,
    sessions,
    directory,
    messages: messagesForWrites,
    certificateFile,
    sequentialSendSeconds: durationSeconds,
    simulatorUrl: `ws://127.0.0.1:${simulatorPort}/ws/chat`,
    controlUrl: `http://127.0.0.1:${controlPort}`
  })])

const mebibyte = 1024 * 1024
const round = (value: number, digits = 2): number => Number(value.toFixed(digits))

interface SessionFigures {
  sessions: number
  serviceRssPerSessionMiB: number
  rawBaileysRssPerSessionMiB: number
  overheadRatio: number
  restoreAllConnectedMs: number
  credentialWritesPerMessage: number
  rawBaileysFileWritesPerMessage: number
}
const figures: SessionFigures[] = []
const rawBaileys: { rssMiB: Record<string, number>, sequentialSendsPerSecond: number } = { rssMiB: {}, sequentialSendsPerSecond: 0 }
let service: ServiceFigures
let cluster: ClusterFigures
const webhookBacklog: WebhookBacklogFigures[] = []
let embeddedSweep: SweepFigures
try {
  // The same verify loads on the embedded store and through one instance on Redis.
  const verifyLoads: VerifyLoadOptions = {
    workDirectory,
    simulatorUrl: `ws://127.0.0.1:${simulatorPort}/ws/chat`,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    certificateFile,
    wrongCodeNumbers: Number(process.env.BENCH_WRONG_CODE_NUMBERS ?? 400),
    rightCodeNumbers: Number(process.env.BENCH_RIGHT_CODE_NUMBERS ?? 50_000)
  }
  service = await measureService({
    ...verifyLoads,
    verifyLoadRequests,
    cpuProfileDirectory: process.env.BENCH_CPU_PROFILE_DIR
  })
  process.stderr.write('measured HTTP\n')
  cluster = await measureCluster({
    ...verifyLoads,
    sessions: Number(process.env.BENCH_CLUSTER_SESSIONS ?? 10),
    leaseMs: Number(process.env.BENCH_CLUSTER_LEASE_MS ?? 15_000)
  })
  process.stderr.write('measured several instances on Redis\n')
  for (const pending of webhookBacklogs) webhookBacklog.push(await measureWebhookBacklog(join(workDirectory, `webhook-backlog-${pending}`), pending))
  embeddedSweep = await measureSweep(join(workDirectory, 'sweep'), Number(process.env.BENCH_SWEEP_RECORDS ?? 100_000))
  process.stderr.write('measured the embedded store with a backlog and a sweep\n')
  rawBaileys.rssMiB.noSocket = round((await worker('raw', 0, join(workDirectory, 'raw-0'))).rss / mebibyte, 1)
  for (const sessions of sessionCounts) {
    const serviceDirectory = join(workDirectory, `service-${sessions}`)
    const linked = await worker('service', sessions, serviceDirectory)
    const raw = await worker('raw', sessions, join(workDirectory, `raw-${sessions}`))
    const restore = await worker('restore', sessions, serviceDirectory)
    rawBaileys.rssMiB[String(sessions)] = round(raw.rss / mebibyte, 1)
    if (sessions === 1) rawBaileys.sequentialSendsPerSecond = round(raw.sendsPerSecond, 1)
    figures.push({
      sessions,
      serviceRssPerSessionMiB: round(linked.rssPerSession / mebibyte),
      rawBaileysRssPerSessionMiB: round(raw.rssPerSession / mebibyte),
      overheadRatio: round(linked.rssPerSession / raw.rssPerSession),
      restoreAllConnectedMs: Math.round(restore.restoreMs),
      credentialWritesPerMessage: round(linked.writesPerMessage),
      rawBaileysFileWritesPerMessage: round(raw.writesPerMessage)
    })
    process.stderr.write(`measured ${sessions} session(s)\n`)
  }
} finally {
  await stopProcess(simulator)
  await rm(workDirectory, { recursive: true, force: true })
}

const byPath = (prefix: string): HttpFigures => service.http.find((figure) => figure.path.startsWith(prefix))!
const bareGet = byPath('bare Fastify GET (reference)').requestsPerSecond
const barePost = byPath('bare Fastify POST, validated {to, code} (reference)').requestsPerSecond
const restored50 = figures.find((figure) => figure.sessions === 50)?.restoreAllConnectedMs

// Each target as the issue states it: the figure, its reference, the ratio and the bound.
interface Target { name: string, figure: number, reference: number | null, ratio: number, bound: string, met: boolean }
const atLeast = (name: string, figure: number, reference: number, minimum: number): Target =>
  ({ name, figure, reference, ratio: round(figure / reference), bound: `>= ${minimum}`, met: figure / reference >= minimum })
const atMost = (name: string, figure: number, reference: number, maximum: number): Target =>
  ({ name, figure, reference, ratio: round(figure / reference), bound: `<= ${maximum}`, met: figure / reference <= maximum })
const targets: Target[] = [
  atLeast('GET / (req/s) vs bare GET', byPath('GET /').requestsPerSecond, bareGet, 0.6),
  atLeast('GET /api/health (req/s) vs bare GET', byPath('GET /api/health').requestsPerSecond, bareGet, 0.5),
  atLeast('POST /api/otp/verify, no code (req/s) vs bare validated POST', byPath('POST /api/otp/verify, no code').requestsPerSecond, barePost, 0.5),
  atLeast('POST /api/otp/verify, wrong code (req/s) vs bare validated POST', byPath('POST /api/otp/verify, wrong code').requestsPerSecond, barePost, 0.5),
  atLeast('POST /api/otp/verify, right code (req/s) vs bare validated POST', byPath('POST /api/otp/verify, right code').requestsPerSecond, barePost, 0.5),
  atLeast('sequential text sends (msg/s) vs raw Baileys sendMessage', service.sequentialSendsPerSecond, rawBaileys.sequentialSendsPerSecond, 0.5),
  atMost('RSS, 1 linked session (MiB) vs raw Baileys, 1 socket', service.rssMiB.oneSession, rawBaileys.rssMiB['1'], 1.2),
  atMost('RSS, 10 linked sessions (MiB) vs raw Baileys, 10 sockets', service.rssMiB.tenSessions, rawBaileys.rssMiB['10'], 1.2)
]
if (restored50 !== undefined) targets.push({ name: '50 sessions restored and connected (ms)', figure: restored50, reference: null, ratio: round(restored50 / 5000), bound: '< 5000 ms', met: restored50 < 5000 })
targets.push({ name: `RSS growth after ${verifyLoadRequests} verify requests (MiB)`, figure: service.verifyLoad.growthMiB, reference: null, ratio: round(service.verifyLoad.growthMiB / 60), bound: '< 60 MiB', met: service.verifyLoad.growthMiB < 60 })

// Not targets: where the HTTP ratios' missing part goes. A bare Fastify that does only what every
// request must keep (bench/bare-server.ts) against the bare one, and the service against that.
const bareGetWithAll = byPath(`bare Fastify GET with ${requiredFeaturesNamed}`).requestsPerSecond
const barePostWithAll = byPath(`bare Fastify POST, validated {to, code}, with ${requiredFeaturesNamed}`).requestsPerSecond
const featureCosts = [
  { name: 'bare GET with a log line per request, vs bare GET', ratio: round(byPath('bare Fastify GET with a log line').requestsPerSecond / bareGet) },
  { name: `bare GET with ${requiredFeaturesNamed}, vs bare GET`, ratio: round(bareGetWithAll / bareGet) },
  { name: `bare validated POST with ${requiredFeaturesNamed}, vs bare validated POST`, ratio: round(barePostWithAll / barePost) },
  { name: 'GET / vs bare GET with the same features', ratio: round(byPath('GET /').requestsPerSecond / bareGetWithAll) },
  { name: 'GET /api/health vs bare GET with the same features', ratio: round(byPath('GET /api/health').requestsPerSecond / bareGetWithAll) },
  { name: 'POST /api/otp/verify, no code, vs bare validated POST with the same features', ratio: round(byPath('POST /api/otp/verify, no code').requestsPerSecond / barePostWithAll) },
  { name: 'POST /api/otp/verify, wrong code, vs bare validated POST with the same features', ratio: round(byPath('POST /api/otp/verify, wrong code').requestsPerSecond / barePostWithAll) },
  { name: 'POST /api/otp/verify, right code, vs bare validated POST with the same features', ratio: round(byPath('POST /api/otp/verify, right code').requestsPerSecond / barePostWithAll) }
]

const resultsFile = join(projectRoot, 'bench', 'results.json')
// Other benchmarks (bench/scale.ts) keep their own keys in the same file.
const existing = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}')) as Record<string, unknown>
const results = {
  ...existing,
  measuredAt: new Date().toISOString(),
  machine: { node: process.version, platform: process.platform, arch: process.arch },
  method: {
    connections: 50,
    durationSeconds,
    service: `node ${serviceStart.join(' ')}, default settings except RATE_LIMIT_MAX=1000000, SEND_MIN_GAP_MS=0, OTP_MAX_ATTEMPTS=100, OTP_EXPOSE_CODE=true; log level info, stdout to a file`,
    bare: 'Fastify 5 from our dependencies, no plugins, logger off; POST validates the verify route\'s TypeBox body',
    bareWithFeatures: `the same bare Fastify with ${requiredFeaturesNamed}, each done the plain way with the libraries the service uses (bench/bare-server.ts)`
  },
  http: service.http,
  sequentialSends: { servicePerSecond: service.sequentialSendsPerSecond, rawBaileysPerSecond: rawBaileys.sequentialSendsPerSecond },
  rssMiB: { service: service.rssMiB, rawBaileys: rawBaileys.rssMiB },
  verifyLoad: service.verifyLoad,
  sessions: figures,
  cluster,
  webhookBacklog,
  embeddedSweep,
  targets,
  featureCosts
}
await writeFile(resultsFile, JSON.stringify(results, null, 2) + '\n')

const table = [
  '| target | ours | reference | ratio | bound | met |',
  '|---|---|---|---|---|---|',
  ...targets.map((target) => `| ${target.name} | ${target.figure} | ${target.reference ?? ''} | ${target.ratio} | ${target.bound} | ${target.met ? 'yes' : 'no'} |`)
].join('\n')
const featureTable = [
  '| what the required features cost (not targets) | ratio |',
  '|---|---|',
  ...featureCosts.map((cost) => `| ${cost.name} | ${cost.ratio} |`)
].join('\n')
const httpTable = [
  '| path, 50 connections | requests/s | p50 ms | p99 ms | requests | other status |',
  '|---|---|---|---|---|---|',
  ...service.http.map((figure) => `| ${figure.path} | ${figure.requestsPerSecond} | ${figure.latencyP50Ms} | ${figure.latencyP99Ms} | ${figure.requests} | ${figure.unexpected ?? ''} |`)
].join('\n')
const sessionTable = [
  '| linked sessions | RSS per session, ours (in-process, after GC) | raw Baileys | ratio | restore until all connected | credential writes per message | raw Baileys file writes per message |',
  '|---|---|---|---|---|---|---|',
  ...figures.map((figure) => `| ${figure.sessions} | ${figure.serviceRssPerSessionMiB} MiB | ${figure.rawBaileysRssPerSessionMiB} MiB | ${figure.overheadRatio} | ${figure.restoreAllConnectedMs} ms | ${figure.credentialWritesPerMessage} | ${figure.rawBaileysFileWritesPerMessage} |`)
].join('\n')
const clusterTable = clusterTables(cluster, service.http)
const backlogTable = [
  '| webhook deliveries pending (embedded store) | enqueue, each | claim 10 | next due time | stats |',
  '|---|---|---|---|---|',
  ...webhookBacklog.map((figure) => `| ${figure.pending} | ${figure.enqueueMicrosecondsEach} µs | ${figure.claimMs} ms | ${figure.nextDueAtMs} ms | ${figure.statsMs} ms |`)
].join('\n') +
  `\n\nSweep of expired records (embedded store) over ${embeddedSweep.records} records: ${embeddedSweep.durationMs} ms in all, the event loop held at most ${embeddedSweep.longestPauseMs} ms at a time.`
const readmePath = join(projectRoot, 'README.md')
const readme = await readFile(readmePath, 'utf8')
const marked = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/
if (marked.test(readme)) {
  const day = results.measuredAt.slice(0, 10)
  await writeFile(readmePath, readme.replace(marked, `<!-- bench:start -->\nLatest run (${day}, Node ${process.version}, ${durationSeconds} s per path):\n\n${table}\n\n${featureTable}\n\n${httpTable}\n\n${sessionTable}\n\n${clusterTable}\n\n${backlogTable}\n<!-- bench:end -->`))
}

console.log(`\n${table}\n\n${featureTable}\n\n${httpTable}\n\n${sessionTable}\n\n${clusterTable}\n\n${backlogTable}\n`)
console.log('written to bench/results.json and README.md')
