import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import createClient, { type Middleware } from 'openapi-fetch'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { paths } from './generated/openapi-types.js'
import { generateClientTypes, generateHeyApiClient } from './generated/generate-client-types.js'
import { buildWithSimulator, nextSessionEvent, testApiKey } from './helper.js'

const documentFile = new URL('../openapi/openapi.json', import.meta.url)

t.test('the committed client types are what the generator makes of openapi.json (run `npm run openapi`)', async (t) => {
  const committed = await readFile(new URL('./generated/openapi-types.ts', import.meta.url), 'utf8')
  t.equal(committed, await generateClientTypes(documentFile))
})

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>
  components: unknown
}

// Checks every answer against the document, so a server that drifts from what it publishes fails
// here even where the generated types cannot see it (they only exist at compile time).
async function documentValidator (): Promise<{ middleware: Middleware, checked: string[], problems: string[] }> {
  const document = JSON.parse(await readFile(documentFile, 'utf8')) as OpenApiDocument
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  ajv.addSchema({ $id: 'openapi.json', components: document.components })
  const checked: string[] = []
  const problems: string[] = []
  const middleware: Middleware = {
    async onResponse ({ request, response, schemaPath }) {
      const operation = document.paths[schemaPath]?.[request.method.toLowerCase()]
      const name = `${request.method} ${schemaPath} ${response.status}`
      const content = operation?.responses[String(response.status)]?.content
      if (content === undefined) {
        problems.push(`${name}: status not in the document`)
        return
      }
      const type = (response.headers.get('content-type') ?? '').split(';')[0]
      if (content[type] === undefined) {
        problems.push(`${name}: content type ${type} not in the document`)
        return
      }
      if (type !== 'application/json') return
      const schema = JSON.parse(JSON.stringify(content[type].schema).replaceAll('"#/components/', '"openapi.json#/components/')) as object
      const validate = ajv.compile(schema)
      if (!validate(await response.clone().json())) problems.push(`${name}: ${ajv.errorsText(validate.errors)}`)
      checked.push(name)
    }
  }
  return { middleware, checked, problems }
}

t.test('the troubleshooting guide\'s flow through a client generated from openapi.json, against the listening server', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  const client = createClient<paths>({ baseUrl, headers: { 'x-api-key': testApiKey } })
  const validator = await documentValidator()
  client.use(validator.middleware)
  const params = { path: { sessionId: 'sdk-session' } }

  const created = await client.POST('/api/sessions/create', { body: { sessionId: 'sdk-session' } })
  t.equal(created.response.status, 201)
  t.equal(created.data?.data.status === 'initializing' || created.data?.data.status === 'qr', true)

  const qr = await client.GET('/api/sessions/{sessionId}/qr', { params })
  // The document says this answer is JSON, or a PNG with ?format=png: the generated type is both.
  const qrText = typeof qr.data === 'object' ? qr.data.data.qr : undefined
  t.ok(qrText)
  const connected = nextSessionEvent(app, 'connected', 'sdk-session')
  await simulator.scanQr(qrText!, { phone: '628120000777' })
  await connected

  const status = await client.GET('/api/sessions/{sessionId}/status', { params })
  t.equal(status.data?.data.isConnected, true)

  const contact = simulator.addContact('628123456789')
  const otp = await client.POST('/api/messages/{sessionId}/otp', { params, body: { to: '08123456789' } })
  t.equal(otp.response.status, 200)
  const delivered = await simulator.nextMessage(contact.phone)
  const code = /\b(\d{6})\b/.exec(delivered.text ?? '')?.[1]
  t.ok(code, 'the phone received a six-digit code')

  const wrong = await client.POST('/api/otp/verify', { body: { to: '08123456789', code: code === '000000' ? '111111' : '000000' } })
  t.equal(wrong.response.status, 400)
  t.equal(wrong.error?.error, 'OTP_INVALID')
  t.equal(wrong.error?.attemptsLeft, 4)

  const verified = await client.POST('/api/otp/verify', { body: { to: '08123456789', code: code! } })
  t.equal(verified.data?.data.verified, true)

  const text = await client.POST('/api/messages/{sessionId}/text', { params, body: { to: '628123456789', message: 'Test message' } })
  t.equal(text.response.status, 200)
  t.equal((await simulator.nextMessage(contact.phone)).text, 'Test message')

  const missingPhone = await client.POST('/api/messages/{sessionId}/text', { params, body: { message: 'no number' } as unknown as { to: string, message: string } })
  t.equal(missingPhone.error?.message, 'Nomor telepon diperlukan')

  const list = await client.GET('/api/sessions')
  t.equal(list.data?.data.sessions['sdk-session']?.isConnected, true)

  const removed = await client.DELETE('/api/sessions/{sessionId}', { params })
  t.equal(removed.data?.data.loggedOut, true)
  const gone = await client.GET('/api/sessions/{sessionId}/status', { params })
  t.equal(gone.response.status, 404)

  const health = await client.GET('/api/health')
  t.equal(health.response.status, 200)

  t.same(validator.problems, [], 'every answer matches the document')
  t.ok(validator.checked.length >= 12, `${validator.checked.length} answers checked against the document`)
})

// Code an SDK user writes against the @hey-api client: operation names, named body and response
// types, the base URL, the QR as JSON and as an image. Compiled with the generated SDK in strict mode.
const heyApiUsage = `
import { createClient } from './client/index.js'
import { createSession, getHealth, getSessionQr, getSessionQrPng, verifyOtp } from './sdk.gen.js'
import type { CreateSessionBody, ErrorResponse, QrResponse, VerifyOtpBody } from './types.gen.js'

export async function useTheSdk (baseUrl: string, apiKey: string) {
  const client = createClient({ baseUrl, headers: { 'x-api-key': apiKey } })
  const body: CreateSessionBody = { sessionId: 'hey-session' }
  const created = await createSession({ client, body })
  const sessionId: string | undefined = created.data?.data.sessionId
  const qr = await getSessionQr({ client, path: { sessionId: 'hey-session' } })
  const qrJson: QrResponse | undefined = qr.data
  const png = await getSessionQrPng({ client, path: { sessionId: 'hey-session' } })
  const image: Blob | File | undefined = png.data
  const wrong: VerifyOtpBody = { to: '08123456789', code: '123456' }
  const refused = await verifyOtp({ client, body: wrong })
  const refusal: ErrorResponse | undefined = refused.error
  const health = await getHealth({ client })
  return {
    sessionId,
    qrText: qrJson?.data.qr,
    imageType: image?.type,
    imageBytes: image === undefined ? 0 : (await image.arrayBuffer()).byteLength,
    refusal: refusal?.error,
    healthStatus: health.data?.data.status
  }
}
`

const runFile = promisify(execFile)
const typescriptCompiler = new URL('../node_modules/typescript/bin/tsc', import.meta.url)

t.test('a client generated by @hey-api/openapi-ts compiles in strict mode and works against the server', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'hey-api-client-'))
  t.teardown(async () => { await rm(directory, { recursive: true, force: true }) })
  await generateHeyApiClient(documentFile, directory)
  await writeFile(join(directory, 'usage.ts'), heyApiUsage)
  await writeFile(join(directory, 'package.json'), JSON.stringify({ type: 'module' }))
  await writeFile(join(directory, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noUnusedLocals: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      types: [],
      outDir: 'dist',
      rootDir: '.'
    },
    include: ['**/*.ts']
  }))
  const compiled = await runFile(process.execPath, [typescriptCompiler.pathname, '-p', directory])
    .then(() => '', (error: { stdout?: string }) => error.stdout ?? String(error))
  t.equal(compiled, '', 'tsc --strict accepts the generated SDK and the code using it')
  if (compiled !== '') return
  // The document's server becomes the client's default base URL, and any other URL is allowed.
  t.match(await readFile(join(directory, 'types.gen.ts'), 'utf8'), "baseUrl: 'http://localhost:3000' | (string & {});")

  const { app } = await buildWithSimulator(t)
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  const { useTheSdk } = await import(pathToFileURL(join(directory, 'dist', 'usage.js')).href) as {
    useTheSdk: (baseUrl: string, apiKey: string) => Promise<Record<string, unknown>>
  }
  const result = await useTheSdk(baseUrl, testApiKey)
  t.equal(result.sessionId, 'hey-session')
  t.ok(result.qrText, 'the QR as JSON')
  t.equal(result.imageType, 'image/png', 'the QR as an image, from its own operation')
  t.ok((result.imageBytes as number) > 100)
  t.equal(result.refusal, 'OTP_NOT_FOUND', 'an error answer is typed as ErrorResponse')
  t.equal(result.healthStatus, 'ok')
})
