// The reference for the HTTP figures: a bare Fastify 5 from the project's own dependencies, no
// plugins, logger off. GET answers a small JSON object; POST validates a {to, code} body like
// the verify route's (the same TypeBox schema) and answers it back.
//
// BARE_FEATURES (comma-separated) adds what issue #14 says every request must keep, each done the
// plain way with the libraries the service uses, so the benchmark can show what the features
// themselves cost on this machine, apart from how the service does them:
// - `log`: one line per request at info (method, path, status, time, request id), written to a
//   file by pino's asynchronous destination;
// - `rateLimit`: @fastify/rate-limit's hook on every request, in memory;
// - `apiKey`: the x-api-key header compared in constant time before the body is read;
// - `metrics`: a prom-client histogram of request durations by method, route and status;
// - `requestId`: a random request id, answered in x-request-id.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { pino } from 'pino'
import { Histogram, Registry } from 'prom-client'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { VerifyOtpBody } from '../schemas/otp.js'
import { fieldErrorKeyword } from '../src/errors.js'

const knownFeatures = ['log', 'rateLimit', 'apiKey', 'metrics', 'requestId']
const features = new Set((process.env.BARE_FEATURES ?? '').split(',').filter((feature) => feature !== ''))
for (const feature of features) if (!knownFeatures.includes(feature)) throw new Error(`BARE_FEATURES: unknown ${feature}; known: ${knownFeatures.join(', ')}`)

class OneLinePerRequest extends LogController {
  override incomingRequest (): void {}
  override requestCompleted (_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.info({ method: request.method, path: request.url, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime) }, 'request completed')
  }
}

const logFile = process.env.BARE_LOG_FILE ?? `bare-${process.pid}.log`
// The schema names its fields' error codes with a keyword Ajv must know to compile it.
const app = Fastify({
  ...(features.has('log')
    ? { loggerInstance: pino({ level: 'info' }, pino.destination({ dest: logFile, sync: false })), logController: new OneLinePerRequest() }
    : { logger: false }),
  ...(features.has('requestId') ? { genReqId: () => randomUUID() } : {}),
  ajv: { customOptions: { keywords: [fieldErrorKeyword] } }
}).withTypeProvider<TypeBoxTypeProvider>()

if (features.has('rateLimit')) {
  await app.register(rateLimit, { global: false, max: 1_000_000, timeWindow: 60_000 })
  app.addHook('onRequest', app.rateLimit())
}
if (features.has('apiKey')) {
  const digest = (key: string): Buffer => createHash('sha256').update(key).digest()
  const expected = digest(process.env.API_KEY ?? 'bench-api-key')
  app.addHook('preParsing', (request, reply, payload, done) => {
    const presented = request.headers['x-api-key']
    if (typeof presented === 'string' && timingSafeEqual(digest(presented), expected)) done(null, payload)
    else void reply.code(401).send({ success: false, error: 'unauthorized' })
  })
}
if (features.has('metrics')) {
  const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request durations', labelNames: ['method', 'route', 'status_code'], registers: [new Registry()] })
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })
}
if (features.has('requestId')) {
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id)
    done(null, payload)
  })
}

app.get('/', async () => ({ success: true, data: { name: 'bare' } }))
app.post('/verify', { schema: { body: VerifyOtpBody } }, async (request) => ({ success: true, data: { verified: true, to: request.body.to } }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write(`bare server listening${features.size === 0 ? '' : ` with ${[...features].join(', ')}`}\n`)
// Closed on SIGTERM like the service, so a `--cpu-prof` run writes its profile.
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
