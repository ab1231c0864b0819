import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { authHeaders, buildWithSimulator, testApiKey } from './helper.js'
import { browserMissing, launchBrowser } from './helpers/browser.js'

const artifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url))

t.test('the qr-page in a real browser: QR before the scan, connected after', { skip: browserMissing }, async (t) => {
  await mkdir(artifacts, { recursive: true })
  const { app, simulator } = await buildWithSimulator(t)
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'browser' } })
  const link = await app.inject({ method: 'POST', url: '/api/sessions/browser/qr-link', headers: authHeaders, payload: {} })
  const browser = await launchBrowser(t)

  const page = await browser.newPage({ viewport: { width: 600, height: 800 } })
  const failedRequests: string[] = []
  page.on('requestfailed', (request) => failedRequests.push(request.url()))
  page.on('request', (request) => { if (!request.url().startsWith(base) && !request.url().startsWith('data:')) failedRequests.push(`external: ${request.url()}`) })

  await page.goto(base + (link.json().data.url as string))
  const image = page.locator('#qr img')
  await image.waitFor({ state: 'visible', timeout: 20_000 })
  t.match(await image.getAttribute('src'), /^data:image\/png;base64,/)
  const { width, height } = await image.evaluate((element) => {
    const loaded = element as unknown as { naturalWidth: number, naturalHeight: number }
    return { width: loaded.naturalWidth, height: loaded.naturalHeight }
  })
  t.ok(width >= 200 && height >= 200, `the QR image decoded in the browser (${width}x${height})`)
  t.match(await page.locator('#status').textContent(), /Scan QR code ini/)
  const qrShown = await image.getAttribute('src')
  const state = await app.inject({ method: 'GET', url: '/api/sessions/browser/qr-page/state', headers: authHeaders })
  t.equal(qrShown, state.json().data.qrImage, 'the page shows the QR on offer now')
  await page.screenshot({ path: `${artifacts}qr-page-before-scan.png` })

  await simulator.scanQr(app.sessions.currentQr('browser')!, { phone: '628120000001' })
  await page.locator('#status.connected').waitFor({ timeout: 20_000 })
  t.match(await page.locator('#status').textContent(), /WhatsApp terhubung/)
  t.equal(await page.locator('#qr img').count(), 0, 'the QR is gone once connected')
  t.equal(await page.locator('#qr .check').count(), 1)
  await page.screenshot({ path: `${artifacts}qr-page-connected.png` })
  t.same(failedRequests, [], 'no request left the service, none failed')
})

t.test('the qr-page opened with the API key in a browser, and a forged link refused', { skip: browserMissing }, async (t) => {
  const { app } = await buildWithSimulator(t)
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'keyed' } })
  const browser = await launchBrowser(t)

  const keyed = await browser.newPage({ extraHTTPHeaders: { 'x-api-key': testApiKey } })
  await keyed.goto(`${base}/api/sessions/keyed/qr-page`)
  await keyed.locator('#qr img').waitFor({ state: 'visible', timeout: 20_000 })
  t.pass('the page shows a QR when opened with the key header')

  const forged = await browser.newPage()
  const response = await forged.goto(`${base}/api/sessions/keyed/qr-page?token=1.forged`)
  t.equal(response?.status(), 401)
  t.match(await forged.textContent('body'), /Link QR tidak valid atau sudah kedaluwarsa/)
})
