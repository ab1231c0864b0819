import autocannon from 'autocannon'
import { join } from 'node:path'
import { freePort, startProcess, stopProcess } from './processes.js'

export interface HttpFigures {
  path: string
  requestsPerSecond: number
  latencyP50Ms: number
  latencyP99Ms: number
  non2xx: number
  requests: number
}

// `durationSeconds` runs the load for that long; without it each request is sent exactly once.
interface Target { url: string, requests: Array<{ method: 'POST', path: string, headers: Record<string, string>, body: string }>, connections: number, durationSeconds?: number }

async function measure (name: string, target: Target, onBody?: (index: number, body: string) => void): Promise<HttpFigures> {
  let next = 0
  const result = await autocannon({
    url: target.url,
    connections: target.connections,
    ...(target.durationSeconds === undefined ? { amount: target.requests.length } : { duration: target.durationSeconds }),
    requests: [{
      setupRequest: (request) => ({ ...request, ...target.requests[next++ % target.requests.length] }),
      onResponse: (_status, body, context) => { onBody?.((context as { index?: number }).index ?? 0, body) }
    }]
  })
  return {
    path: name,
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    requests: result.requests.total
  }
}

const apiKey = 'bench-api-key-0123456789'

// OTP send and verify through the built service (API, queue, real Baileys, simulator), each
// beside a bare Fastify route measured in the same run with the same load.
export async function measureHttp (options: { workDirectory: string, simulatorUrl: string, controlUrl: string, certificateFile: string, requests: number }): Promise<HttpFigures[]> {
  const control = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(options.controlUrl + path, { method: 'POST', body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`simulator control ${path}: ${response.status}`)
    return await response.json()
  }
  const servicePort = await freePort()
  const barePort = await freePort()
  const service = await startProcess(['dist/src/server.js'], {
    PORT: String(servicePort),
    API_KEY: apiKey,
    WA_WEB_SOCKET_URL: options.simulatorUrl,
    WA_EXTRA_CA_FILE: options.certificateFile,
    AUTH_STATE_DIR: join(options.workDirectory, 'http', 'auth_state'),
    LOG_DIR: join(options.workDirectory, 'http', 'logs'),
    DATA_DIR: join(options.workDirectory, 'http', 'data'),
    // The benchmark measures the service, not the safety limits meant for production traffic.
    RATE_LIMIT_MAX: '1000000',
    SEND_MIN_GAP_MS: '0',
    SEND_QUEUE_MAX: '100000',
    OTP_MAX_PER_HOUR: '1000',
    OTP_EXPOSE_CODE: 'true'
  }, /Server listening/)
  const bare = await startProcess(['--import', 'tsx', 'bench/bare-server.ts'], { PORT: String(barePort) }, /bare server listening/)
  try {
    const base = `http://127.0.0.1:${servicePort}`
    const headers = { 'content-type': 'application/json', 'x-api-key': apiKey }
    await fetch(`${base}/api/sessions/create`, { method: 'POST', headers, body: JSON.stringify({ sessionId: 'bench' }) })
    const qr = await (await fetch(`${base}/api/sessions/bench/qr`, { headers })).json() as { data: { qr: string } }
    await control('/scan', { qr: qr.data.qr, phone: '628110000001' })
    for (let polls = 0; polls < 200; polls++) {
      const status = await (await fetch(`${base}/api/sessions/bench/status`, { headers })).json() as { data: { isConnected: boolean } }
      if (status.data.isConnected) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const phones = Array.from({ length: options.requests }, (_, index) => `62812${String(index).padStart(7, '0')}`)
    for (const phone of phones) await control('/contacts', { phone })

    const codes = new Map<string, string>()
    const sendRequests = phones.map((phone) => ({ method: 'POST' as const, path: '/api/messages/bench/otp', headers, body: JSON.stringify({ to: phone }) }))
    const otpSend = await measure('POST /api/messages/:id/otp', { url: base, connections: 10, requests: sendRequests }, (_index, body) => {
      const parsed = JSON.parse(body) as { success: boolean, data?: { to: string, code?: string } }
      if (parsed.success && parsed.data?.code !== undefined) codes.set(parsed.data.to, parsed.data.code)
    })
    const verifyRequests = [...codes].map(([to, code]) => ({ method: 'POST' as const, path: '/api/otp/verify', headers, body: JSON.stringify({ to, code }) }))
    const otpVerify = await measure('POST /api/otp/verify', { url: base, connections: 10, requests: verifyRequests })

    const bareRequests = phones.map((phone) => ({ method: 'POST' as const, path: '/echo', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: phone }) }))
    // The reference runs for a fixed time: a few hundred requests end before a bare route warms up.
    const bareRoute = await measure('bare Fastify POST (reference)', { url: `http://127.0.0.1:${barePort}`, connections: 10, requests: bareRequests, durationSeconds: 10 })
    return [otpSend, otpVerify, bareRoute]
  } finally {
    await stopProcess(service)
    await stopProcess(bare)
  }
}
