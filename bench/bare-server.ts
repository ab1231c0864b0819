// The reference for the HTTP figures: a bare Fastify 5 from the project's own dependencies, no
// plugins, logger off. GET answers a small JSON object; POST validates a {to, code} body like
// the verify route's (the same TypeBox schema) and answers it back.
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { VerifyOtpBody } from '../schemas/otp.js'
import { fieldErrorKeyword } from '../src/errors.js'

// The schema names its fields' error codes with a keyword Ajv must know to compile it.
const app = Fastify({ logger: false, ajv: { customOptions: { keywords: [fieldErrorKeyword] } } }).withTypeProvider<TypeBoxTypeProvider>()
app.get('/', async () => ({ success: true, data: { name: 'bare' } }))
app.post('/verify', { schema: { body: VerifyOtpBody } }, async (request) => ({ success: true, data: { verified: true, to: request.body.to } }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('bare server listening\n')
// Closed on SIGTERM like the service, so a `--cpu-prof` run writes its profile.
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
