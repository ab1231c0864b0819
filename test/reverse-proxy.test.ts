import { mkdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { buildWithSimulator, nextSessionEvent, testApiKey } from './helper.js'
import { browserMissing, launchBrowser } from './helpers/browser.js'
import * as samples from './helpers/media-samples.js'
import { nginxLocationFile, proxyAddress, startNginx } from './helpers/nginx.js'
import { freePort } from './processes.js'

// The service behind a real nginx that publishes it under /wa/ with the configuration the README
// shows (docs/nginx.conf), as the design card deploys it. Everything below goes through the proxy.

const artifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url))

// nginx first, so that a missing or broken nginx fails the file at once, before a service exists.
const proxyPort = await freePort()
const servicePort = await freePort()
const nginx = await startNginx(t, { port: proxyPort, upstream: `http://127.0.0.1:${servicePort}` })
const publicUrl = nginx.publicUrl
const { app, simulator } = await buildWithSimulator(t, {
  env: { PUBLIC_URL: publicUrl, TRUST_PROXY: proxyAddress, RATE_LIMIT_MAX: '1000' },
  // Lets the test see which client address the service settled on.
  beforeReady: (app) => { app.get('/test/client-address', { config: { public: true } }, async (request) => ({ ip: request.ip })) }
})
await app.listen({ port: servicePort, host: '127.0.0.1' })

const keyed = { 'x-api-key': testApiKey }
async function call (method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const response = await fetch(`${publicUrl}${path}`, {
    method,
    headers: body === undefined ? keyed : { ...keyed, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: response.status, json: await response.json() }
}

t.test('the README shows the nginx configuration the test runs', async (t) => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const location = await readFile(nginxLocationFile, 'utf8')
  t.ok(readme.includes('```nginx\n' + location + '```\n'), 'README has docs/nginx.conf verbatim in an nginx block')
})

t.test('GET / through the proxy links under PUBLIC_URL, and the links work', async (t) => {
  const root = await call('GET', '/')
  t.equal(root.status, 200)
  t.same(root.json.data.links, { docs: `${publicUrl}/docs`, openapi: `${publicUrl}/docs/json`, health: `${publicUrl}/api/health` })
  t.equal((await fetch(root.json.data.links.health)).status, 200)
  t.equal((await fetch(root.json.data.links.openapi)).status, 200)
})

t.test('the client address is the caller\'s, not the proxy\'s nor one the caller wrote', async (t) => {
  const response = await fetch(`${publicUrl}/test/client-address`, { headers: { 'x-forwarded-for': '198.51.100.7' } })
  t.same(await response.json(), { ip: '127.0.0.1' }, 'nginx appends the caller; the spoofed entry before it is not believed')
})

t.test('the seed\'s session flow, an OTP and a media upload of several MB through the proxy', async (t) => {
  const created = await call('POST', '/api/sessions/create', { sessionId: 'proxied' })
  t.equal(created.status, 201, JSON.stringify(created.json))
  const qr = await call('GET', '/api/sessions/proxied/qr')
  t.equal(qr.status, 200)
  const connected = nextSessionEvent(app, 'connected', 'proxied')
  await simulator.scanQr(qr.json.data.qr, { phone: '628120000555' })
  await connected
  const status = await call('GET', '/api/sessions/proxied/status')
  t.match(status.json.data, { sessionId: 'proxied', status: 'connected', isConnected: true })

  const contact = simulator.addContact('628123456789')
  const sent = await call('POST', '/api/messages/proxied/otp', { to: '08123456789' })
  t.equal(sent.status, 200, JSON.stringify(sent.json))
  const code = /\b(\d{6})\b/.exec((await simulator.nextMessage(contact.phone)).text ?? '')?.[1]
  t.ok(code, 'the phone received the code')
  const verified = await call('POST', '/api/otp/verify', { to: '08123456789', code })
  t.equal(verified.status, 200)
  t.equal(verified.json.data.verified, true)

  const bytes = Buffer.concat([samples.pdf(), Buffer.alloc(6 * 1024 * 1024, '% padding\n')])
  const form = new FormData()
  form.set('to', '08123456789')
  form.set('caption', 'Laporan besar')
  form.set('file', new Blob([bytes], { type: 'application/pdf' }), 'laporan.pdf')
  const uploaded = await fetch(`${publicUrl}/api/messages/proxied/media`, { method: 'POST', headers: keyed, body: form })
  const body = await uploaded.json() as { data: unknown }
  t.equal(uploaded.status, 200, JSON.stringify(body))
  t.match(body.data, { kind: 'document', mimetype: 'application/pdf', size: bytes.length })
  const received = await simulator.nextMessage(contact.phone, { timeoutMs: 20_000 })
  t.ok(received.media?.bytes.equals(bytes), `the ${bytes.length}-byte file arrives byte-identical`)
})

t.test('the qr-link opened in a browser through the proxy: QR, then connected', { skip: browserMissing }, async (t) => {
  await mkdir(artifacts, { recursive: true })
  t.equal((await call('POST', '/api/sessions/create', { sessionId: 'browser-proxied' })).status, 201)
  const link = await call('POST', '/api/sessions/browser-proxied/qr-link', {})
  const url = link.json.data.url as string
  t.ok(url.startsWith(`${publicUrl}/api/sessions/browser-proxied/qr-page?token=`), `the link keeps the proxy's path: ${url}`)

  const browser = await launchBrowser(t)
  const page = await browser.newPage({ viewport: { width: 600, height: 800 } })
  const outside: string[] = []
  page.on('requestfailed', (request) => outside.push(`failed: ${request.url()}`))
  page.on('request', (request) => { if (!request.url().startsWith(`${publicUrl}/`) && !request.url().startsWith('data:')) outside.push(request.url()) })
  page.on('response', (response) => { if (response.status() >= 400) outside.push(`${response.status()}: ${response.url()}`) })

  await page.goto(url)
  await page.locator('#qr img').waitFor({ state: 'visible', timeout: 20_000 })
  t.match(await page.locator('#status').textContent(), /Scan QR code ini/)
  await page.screenshot({ path: `${artifacts}qr-page-behind-proxy.png` })
  await simulator.scanQr(app.sessions.currentQr('browser-proxied')!, { phone: '628120000556' })
  await page.locator('#status.connected').waitFor({ timeout: 20_000 })
  t.match(await page.locator('#status').textContent(), /WhatsApp terhubung/)
  t.same(outside, [], 'every request stayed under the proxy\'s path and succeeded')
})

t.test('Swagger UI at /wa/docs: loads through the proxy, and Try it out reaches the service', { skip: browserMissing }, async (t) => {
  const browser = await launchBrowser(t)
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } })
  const failed: string[] = []
  page.on('response', (response) => { if (response.status() >= 400) failed.push(`${response.status()}: ${response.url()}`) })
  page.on('requestfailed', (request) => failed.push(`failed: ${request.url()}`))

  await page.goto(`${publicUrl}/docs`)
  const operation = page.locator('.opblock-get', { hasText: '/api/health' }).first()
  await operation.waitFor({ timeout: 20_000 })
  t.equal(await page.locator('.servers select').inputValue(), '..', 'the first server is the one the docs were loaded from')
  await operation.locator('.opblock-summary').click()
  await operation.locator('button.try-out__btn').click()
  const answered = page.waitForResponse((response) => response.url().includes('/api/health'))
  await operation.locator('button.execute').click()
  const response = await answered
  t.equal(response.url(), `${publicUrl}/api/health`, 'Try it out called the service through the proxy')
  t.equal(response.status(), 200)
  await operation.locator('.live-responses-table .response-col_status', { hasText: '200' }).waitFor()
  t.same(failed, [], 'no asset or call of the UI failed')
})
