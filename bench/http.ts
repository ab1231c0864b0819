import autocannon from 'autocannon'
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent, request as httpRequest } from 'node:http'
import { seedOtpCodes } from './otp-seed.js'
import { freePort, projectRoot, serviceStart, stopProcess } from './processes.js'

export interface HttpFigures {
  path: string
  requestsPerSecond: number
  latencyP50Ms: number
  latencyP99Ms: number
  non2xx: number
  requests: number
  // Answers with another status than the one this path is meant to measure.
  unexpected?: number
}

export interface ServiceFigures {
  http: HttpFigures[]
  // Sequential POST /api/messages/:id/text, one after the other, pacing off.
  sequentialSendsPerSecond: number
  // The built service's resident memory, read from /proc as the kernel sees it (no forced GC).
  rssMiB: { noSession: number, oneSession: number, tenSessions: number }
  verifyLoad: {
    requests: number
    rssBeforeMiB: number
    rssAfterMiB: number
    rssAfterIdleMiB: number
    growthMiB: number
    growthAfterIdleMiB: number
  }
}

interface Request { method: 'GET' | 'POST', path: string, headers?: Record<string, string>, body?: string }
interface Load {
  url: string
  requests: Request[]
  // The status this path answers with; anything else is counted as unexpected.
  expectedStatus: number
  // Without it the load runs for `durationSeconds`; with it each request is sent exactly once.
  amount?: number
}

const connections = 50
const durationSeconds = Number(process.env.BENCH_SECONDS ?? 8)
const mebibyte = 1024 * 1024

// Each path and its reference take turns in short slices (the whole duration, or the amount, cut
// in `slices`), so a burst of other work on this shared machine falls on both and their ratio
// holds. p50 is the mean of the slices' weighted by requests; p99 the worst slice's.
// A slice's time ends at its last answer: autocannon notices that an amount is done only at its
// next one-second sample, and counts the idle wait in its duration (up to a second on a slice of
// two or three, which made a load with an amount look up to a third slower than it ran).
export async function measureInTurns (loads: Array<{ name: string, load: Load }>, slices = 4): Promise<HttpFigures[]> {
  const totals = loads.map(() => ({ requests: 0, seconds: 0, non2xx: 0, unexpected: 0, weightedP50: 0, p99: 0, next: 0 }))
  for (let slice = 0; slice < slices; slice++) {
    for (const [index, { load }] of loads.entries()) {
      const total = totals[index]!
      const share = (end: number): number => Math.floor((load.amount ?? 0) * end / slices)
      const amount = load.amount === undefined ? undefined : share(slice + 1) - share(slice)
      const started = performance.now()
      let lastAnswer = started
      const result = await autocannon({
        url: load.url,
        connections,
        ...(amount === undefined ? { duration: durationSeconds / slices } : { amount }),
        // One sequence across the slices: a right code is spent once, in whichever slice.
        requests: [{
          setupRequest: (request) => ({ ...request, ...load.requests[total.next++ % load.requests.length] }),
          onResponse: () => { lastAnswer = performance.now() }
        }]
      })
      if (result.statusCodeStats !== undefined) {
        for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
          if (Number(status) !== load.expectedStatus) total.unexpected += count ?? 0
        }
      }
      total.unexpected += result.errors + result.timeouts
      total.requests += result.requests.total
      total.seconds += lastAnswer > started ? (lastAnswer - started) / 1000 : result.duration
      total.non2xx += result.non2xx
      total.weightedP50 += result.latency.p50 * result.requests.total
      total.p99 = Math.max(total.p99, result.latency.p99)
    }
  }
  return loads.map(({ name }, index) => {
    const total = totals[index]!
    const figures: HttpFigures = {
      path: name,
      requestsPerSecond: Math.round(total.requests / total.seconds),
      latencyP50Ms: Math.round(total.weightedP50 / Math.max(1, total.requests)),
      latencyP99Ms: total.p99,
      non2xx: total.non2xx,
      requests: total.requests,
      unexpected: total.unexpected
    }
    process.stderr.write(`  ${name}: ${figures.requestsPerSecond} req/s\n`)
    return figures
  })
}

export async function measure (name: string, load: Load): Promise<HttpFigures> {
  const [figures] = await measureInTurns([{ name, load }], 1)
  return figures!
}

// Started as people start it (npm start's command, serviceStart), output to a file as a container's log
// would take it (a pipe the benchmark reads would slow the service down by what it costs us).
export async function startBuilt (args: string[], env: Record<string, string>, logFile: string): Promise<ChildProcess> {
  const output = openSync(logFile, 'a')
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', output, output] })
  closeSync(output)
  return child
}

export async function waitUntilAnswering (child: ChildProcess, url: string, logFile: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`${url} exited: ${readFileSync(logFile, 'utf8')}`)
    try {
      if ((await fetch(url)).status < 500) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${url} did not answer: ${readFileSync(logFile, 'utf8')}`)
}

function rssOf (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
  return kilobytes * 1024
}

// Resident memory once the process has been idle a moment (timers, pending writes settled).
async function settledRssMiB (pid: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 2000))
  return Number((rssOf(pid) / mebibyte).toFixed(1))
}

export const apiKey = 'bench-api-key-0123456789'

// Default settings, except what would stop a load test: the rate limit, the pacing between
// sends, and the attempts per code (the wrong-code load tries each code up to 99 times).
export function loadTestSettings (
  port: number,
  directory: string,
  simulator: { simulatorUrl: string, certificateFile: string }
): Record<string, string> {
  return {
    PORT: String(port),
    API_KEY: apiKey,
    WA_WEB_SOCKET_URL: simulator.simulatorUrl,
    WA_EXTRA_CA_FILE: simulator.certificateFile,
    AUTH_STATE_DIR: join(directory, 'auth_state'),
    LOG_DIR: join(directory, 'logs'),
    DATA_DIR: join(directory, 'data'),
    RATE_LIMIT_MAX: '1000000',
    SEND_MIN_GAP_MS: '0',
    SEND_QUEUE_MAX: '100000',
    OTP_MAX_ATTEMPTS: '100',
    OTP_EXPOSE_CODE: 'true'
  }
}

async function postOnce (
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string
): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, body: text }) })
      response.on('error', reject)
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}
const round = (value: number, digits = 2): number => Number(value.toFixed(digits))

// Runs `task` over `items` with at most `parallel` at a time.
export async function inParallel<Item> (items: Item[], parallel: number, task: (item: Item) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < items.length) await task(items[next++])
  }))
}

// What the verify loads need, on the embedded store here and on Redis in bench/cluster.ts.
export interface VerifyLoadOptions {
  workDirectory: string
  simulatorUrl: string
  controlUrl: string
  certificateFile: string
  // Numbers given a code through the API for the wrong-code load.
  wrongCodeNumbers: number
  // Right codes seeded before the start (bench/otp-seed.ts), one per request of the right-code load.
  rightCodeNumbers: number
}

export interface HttpOptions extends VerifyLoadOptions {
  verifyLoadRequests: number
  // When set, the service runs under `node --cpu-prof` and leaves its profile here.
  cpuProfileDirectory?: string
}

const requiredFeatures = 'log,rateLimit,apiKey,metrics,requestId'
export const requiredFeaturesNamed = 'log line, rate limit, API key, metrics, request id'

// The built service beside a bare Fastify 5, each path under the same load in the same run.
export async function measureService (options: HttpOptions): Promise<ServiceFigures> {
  const control = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(options.controlUrl + path, { method: 'POST', body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`simulator control ${path}: ${response.status}`)
    return await response.json()
  }
  const directory = join(options.workDirectory, 'http')
  await mkdir(directory, { recursive: true })
  const servicePort = await freePort()
  const serviceLog = join(directory, 'service.out')
  // Numbers apart from every other load's, each with a known code valid for the whole run.
  const phoneFor = (index: number): string => `62812${String(index).padStart(7, '0')}`
  const rightCodePhones = Array.from({ length: options.rightCodeNumbers }, (_, index) => phoneFor(1_000_000 + index))
  const seedStarted = performance.now()
  const settings = loadTestSettings(servicePort, directory, options)
  const rightCodes = await seedOtpCodes(settings, rightCodePhones, 3600)
  process.stderr.write(`  ${rightCodes.size} right codes seeded in ${Math.round(performance.now() - seedStarted)} ms\n`)
  const profiling = options.cpuProfileDirectory === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDirectory}`]
  const service = await startBuilt([...profiling, ...serviceStart], settings, serviceLog)
  // The bare Fastify, plain and with what every request of the service must keep
  // (bench/bare-server.ts): the log line alone, then all of it. What these cost is what no service
  // with them can win back.
  const startBare = async (features: string): Promise<{ child: ChildProcess, base: string }> => {
    const port = await freePort()
    const name = features === '' ? 'bare' : `bare-${features.replaceAll(',', '-')}`
    const env = { PORT: String(port), API_KEY: apiKey, BARE_FEATURES: features, BARE_LOG_FILE: join(directory, `${name}.log`) }
    const logFile = join(directory, `${name}.out`)
    const child = await startBuilt(['--import', 'tsx', 'bench/bare-server.ts'], env, logFile)
    await waitUntilAnswering(child, `http://127.0.0.1:${port}/`, logFile)
    return { child, base: `http://127.0.0.1:${port}` }
  }
  const bare = await startBare('')
  const bareWithLog = await startBare('log')
  const bareWithAll = await startBare(requiredFeatures)
  try {
    const base = `http://127.0.0.1:${servicePort}`
    await waitUntilAnswering(service, `${base}/api/health`, serviceLog)
    const headers = { 'content-type': 'application/json', 'x-api-key': apiKey }
    const rssNoSession = await settledRssMiB(service.pid!)

    const link = async (sessionId: string, phone: string): Promise<void> => {
      await fetch(`${base}/api/sessions/create`, { method: 'POST', headers, body: JSON.stringify({ sessionId }) })
      for (let polls = 0; polls < 400; polls++) {
        const qr = await fetch(`${base}/api/sessions/${sessionId}/qr`, { headers })
        if (qr.ok) {
          await control('/scan', { qr: ((await qr.json()) as { data: { qr: string } }).data.qr, phone })
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      for (let polls = 0; polls < 400; polls++) {
        const status = await (await fetch(`${base}/api/sessions/${sessionId}/status`, { headers })).json() as { data: { isConnected: boolean } }
        if (status.data.isConnected) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`session ${sessionId} did not connect`)
    }
    await link('bench', '628110000001')
    const rssOneSession = await settledRssMiB(service.pid!)
    for (let index = 1; index < 10; index++) await link(`bench-${index}`, `62811000000${index + 1}`)
    const rssTenSessions = await settledRssMiB(service.pid!)
    process.stderr.write(`  service RSS: ${rssNoSession} / ${rssOneSession} / ${rssTenSessions} MiB with 0 / 1 / 10 sessions\n`)

    // Codes are created through the API, as a client would: one OTP per number, sent through
    // the simulator with OTP_EXPOSE_CODE on so the benchmark knows each code.
    const codedPhones = Array.from({ length: options.wrongCodeNumbers }, (_, index) => phoneFor(index))
    const codes = new Map<string, string>()
    const sendStarted = performance.now()
    // Spread over the ten sessions: one session sends one message at a time, on purpose.
    const sessionIds = ['bench', ...Array.from({ length: 9 }, (_, index) => `bench-${index + 1}`)]
    let sent = 0
    await inParallel(codedPhones, 20, async (phone) => {
      await control('/contacts', { phone })
      const response = await fetch(`${base}/api/messages/${sessionIds[sent++ % sessionIds.length]}/otp`, { method: 'POST', headers, body: JSON.stringify({ to: phone }) })
      const parsed = await response.json() as { data?: { code?: string } }
      if (parsed.data?.code === undefined) throw new Error(`OTP to ${phone}: ${response.status} ${JSON.stringify(parsed)}`)
      codes.set(phone, parsed.data.code)
    })
    const otpSendsPerSecond = Math.round(codes.size / ((performance.now() - sendStarted) / 1000))
    process.stderr.write(`  ${codes.size} OTPs sent, ${otpSendsPerSecond}/s with 20 in flight over 10 sessions\n`)
    const otpSend: HttpFigures = { path: 'POST /api/messages/:id/otp (20 in flight over 10 sessions, distinct numbers)', requestsPerSecond: otpSendsPerSecond, latencyP50Ms: 0, latencyP99Ms: 0, non2xx: 0, requests: codes.size }

    const verify = (to: string, code: string): Request => ({ method: 'POST', path: '/api/otp/verify', headers, body: JSON.stringify({ to, code }) })
    // Another code of the same length: the last digit moved on by one.
    const wrong = (code: string): string => code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10)
    const wrongCodeRequests = codedPhones.map((phone) => verify(phone, wrong(codes.get(phone)!)))
    const rightCodeRequests = [...rightCodes].map(([phone, code]) => verify(phone, code))
    const noCodeRequests = Array.from({ length: 1000 }, (_, index) => verify(phoneFor(5_000_000 + index), '123456'))

    // Each path in turns with its reference. Each right code is spent by its first verify: that
    // load walks through the seeded codes, each request a fresh right code, and ends when they are
    // all spent (its duration follows the rate).
    const bareRequest: Request = { method: 'GET', path: '/', headers: { 'x-api-key': apiKey } }
    const [bareGet, bareGetWithLog, bareGetWithAll, root, health] = await measureInTurns([
      { name: 'bare Fastify GET (reference)', load: { url: bare.base, requests: [bareRequest], expectedStatus: 200 } },
      { name: 'bare Fastify GET with a log line per request', load: { url: bareWithLog.base, requests: [bareRequest], expectedStatus: 200 } },
      { name: `bare Fastify GET with ${requiredFeaturesNamed}`, load: { url: bareWithAll.base, requests: [bareRequest], expectedStatus: 200 } },
      { name: 'GET /', load: { url: base, requests: [{ method: 'GET', path: '/' }], expectedStatus: 200 } },
      { name: 'GET /api/health', load: { url: base, requests: [{ method: 'GET', path: '/api/health' }], expectedStatus: 200 } }
    ])
    const barePostRequests = noCodeRequests.map((request) => ({ ...request, path: '/verify' }))
    const [barePost, barePostWithAll, noCode, wrongCode, rightCode] = await measureInTurns([
      { name: 'bare Fastify POST, validated {to, code} (reference)', load: { url: bare.base, requests: barePostRequests, expectedStatus: 200 } },
      { name: `bare Fastify POST, validated {to, code}, with ${requiredFeaturesNamed}`, load: { url: bareWithAll.base, requests: barePostRequests, expectedStatus: 200 } },
      { name: 'POST /api/otp/verify, no code (404)', load: { url: base, requests: noCodeRequests, expectedStatus: 404 } },
      { name: 'POST /api/otp/verify, wrong code (400)', load: { url: base, requests: wrongCodeRequests, expectedStatus: 400 } },
      { name: 'POST /api/otp/verify, right code (200)', load: { url: base, requests: rightCodeRequests, expectedStatus: 200, amount: rightCodeRequests.length } }
    ])

    // Sequential sends: the next starts when the last one's answer arrived.
    const contact = '628999000001'
    await control('/contacts', { phone: contact })
    // A connection of its own: fetch's pool holds sockets idle since the send phase, and Node's
    // server may answer such a socket with a 408 of its header timeout as the next request's answer.
    const sendAgent = new Agent({ keepAlive: true, maxSockets: 1 })
    let sends = 0
    const sendsStarted = performance.now()
    while (performance.now() - sendsStarted < durationSeconds * 1000) {
      const { status, body } = await postOnce(sendAgent, `${base}/api/messages/bench/text`, { ...headers, 'x-api-key': apiKey }, JSON.stringify({ to: contact, message: `bench message ${sends}` }))
      if (status !== 200) throw new Error(`text send: ${status} ${body}`)
      sends++
    }
    sendAgent.destroy()
    const sequentialSendsPerSecond = round(sends / ((performance.now() - sendsStarted) / 1000), 1)
    process.stderr.write(`  sequential sends: ${sequentialSendsPerSecond}/s\n`)

    // Memory under a long verify load: numbers without a code and wrong codes spread over
    // many numbers, the answers a service under attack gives most.
    const rssBefore = await settledRssMiB(service.pid!)
    const spread = Array.from({ length: 10_000 }, (_, index) => verify(phoneFor(6_000_000 + index), '123456'))
    await measure(`POST /api/otp/verify x ${options.verifyLoadRequests}`, { url: base, requests: spread, expectedStatus: 404, amount: options.verifyLoadRequests })
    const rssAfter = await settledRssMiB(service.pid!)
    // What stays once the process has been idle a while: V8 gives back young-generation and
    // old-space pages only after its memory reducer runs, seconds after the load ends.
    await new Promise((resolve) => setTimeout(resolve, 13_000))
    const rssAfterIdle = await settledRssMiB(service.pid!)
    process.stderr.write(`  RSS around the verify load: ${rssBefore} before, ${rssAfter} 2 s after, ${rssAfterIdle} 15 s after\n`)
    return {
      http: [otpSend, root, health, bareGet, bareGetWithLog, bareGetWithAll, noCode, wrongCode, rightCode, barePost, barePostWithAll],
      sequentialSendsPerSecond,
      rssMiB: { noSession: rssNoSession, oneSession: rssOneSession, tenSessions: rssTenSessions },
      verifyLoad: {
        requests: options.verifyLoadRequests,
        rssBeforeMiB: rssBefore,
        rssAfterMiB: rssAfter,
        rssAfterIdleMiB: rssAfterIdle,
        growthMiB: round(rssAfter - rssBefore, 1),
        growthAfterIdleMiB: round(rssAfterIdle - rssBefore, 1)
      }
    }
  } finally {
    await stopProcess(service)
    await stopProcess(bare.child)
    await stopProcess(bareWithLog.child)
    await stopProcess(bareWithAll.child)
  }
}
