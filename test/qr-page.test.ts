import t from 'tap'
import { createQrLinks } from '../plugins/qr-links.js'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'

t.test('qr-link tokens: one session, until they expire, untampered', async (t) => {
  let now = 1_800_000_000_000
  const links = createQrLinks(Buffer.alloc(32, 7), () => now)
  const { token, expiresAt } = links.sign('abc', 600)
  t.equal(expiresAt.getTime(), now + 600_000)
  t.ok(links.verify('abc', token))
  t.notOk(links.verify('abd', token), 'another session')
  t.notOk(links.verify('abc', undefined))
  t.notOk(links.verify('abc', 'garbage'))
  const [expiry, signature] = token.split('.')
  t.notOk(links.verify('abc', `${Number(expiry) + 3600}.${signature}`), 'a longer expiry is not accepted')
  t.notOk(links.verify('abc', `${expiry}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`), 'a changed signature')
  t.notOk(createQrLinks(Buffer.alloc(32, 8), () => now).verify('abc', token), 'another server secret')
  now += 600_000
  t.notOk(links.verify('abc', token), 'expired')
})

t.test('the qr-page: self-contained HTML, key or signed link, live state until connected', async (t) => {
  const { app, simulator } = await buildWithSimulator(t)
  await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'page' } })

  const withoutKey = await app.inject({ method: 'GET', url: '/api/sessions/page/qr-page' })
  t.equal(withoutKey.statusCode, 401)
  // Regression (issue 10, item 17): no link was used, yet the answer read "link invalid or expired".
  t.same(withoutKey.json(), {
    success: false,
    message: 'Halaman QR memerlukan API key. Minta link dengan POST /api/sessions/page/qr-link (dengan header X-API-Key) lalu buka data.url di browser, atau kirim API key di header X-API-Key',
    error: 'QR_PAGE_KEY_REQUIRED'
  })
  const withoutKeyState = await app.inject({ method: 'GET', url: '/api/sessions/page/qr-page/state' })
  t.equal(withoutKeyState.json().error, 'QR_PAGE_KEY_REQUIRED')
  const wrongToken = await app.inject({ method: 'GET', url: '/api/sessions/page/qr-page?token=1.forged' })
  t.equal(wrongToken.statusCode, 401)
  t.same(wrongToken.json(), { success: false, message: 'Link QR tidak valid atau sudah kedaluwarsa', error: 'QR_LINK_INVALID' }, 'a token that was sent and is wrong still says so')

  const page = await app.inject({ method: 'GET', url: '/api/sessions/page/qr-page', headers: authHeaders })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /<html lang="id">/)
  t.match(page.body, /Tautkan WhatsApp/)
  t.notMatch(page.body, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!wa\.me)/, 'no external script, style or CDN')
  t.match(page.headers['content-security-policy'], /default-src 'none'/)
  const relativeStateUrl = /var stateUrl = "([^"]+)"/.exec(page.body)?.[1]
  t.match(relativeStateUrl, /^qr-page\/state\?token=/, 'relative to the page, so it works under a proxy\'s path prefix')
  // Resolved the way the browser does, against the page's own address.
  const resolvedStateUrl = new URL(relativeStateUrl!, 'http://service.test/api/sessions/page/qr-page')
  const stateUrl = resolvedStateUrl.pathname + resolvedStateUrl.search
  t.ok(stateUrl.startsWith('/api/sessions/page/qr-page/state?token='), 'the page polls with its own token')

  const link = await app.inject({ method: 'POST', url: '/api/sessions/page/qr-link', headers: authHeaders, payload: { expiresInSeconds: 120 } })
  t.equal(link.statusCode, 200)
  const { url, expiresAt } = link.json().data as { url: string, expiresAt: string }
  t.match(url, /^\/api\/sessions\/page\/qr-page\?token=/)
  t.ok(Math.abs(new Date(expiresAt).getTime() - Date.now() - 120_000) < 5000)
  const linked = await app.inject({ method: 'GET', url })
  t.equal(linked.statusCode, 200, 'the signed link opens the page without the key')
  t.notOk((await app.inject({ method: 'GET', url: url.replace('/page/', '/other/') })).statusCode === 200, 'not another session')

  const before = await app.inject({ method: 'GET', url: stateUrl })
  t.equal(before.statusCode, 200)
  t.match(before.json().data, { sessionId: 'page', isConnected: false })
  if (before.json().data.qrImage === null) {
    await app.inject({ method: 'GET', url: '/api/sessions/page/qr', headers: authHeaders })
  }
  const offered = await app.inject({ method: 'GET', url: stateUrl })
  t.match(offered.json().data, { status: 'qr', qrImage: /^data:image\/png;base64,/ })

  const connected = nextSessionEvent(app, 'connected', 'page')
  await simulator.scanQr(app.sessions.currentQr('page')!, { phone: '628123400000' })
  await connected
  const after = await app.inject({ method: 'GET', url: stateUrl })
  t.match(after.json().data, { status: 'connected', isConnected: true, qrImage: null, user: { id: /^628123400000/ } })

  const forged = await app.inject({ method: 'GET', url: '/api/sessions/page/qr-page/state?token=123.abc' })
  t.equal(forged.statusCode, 401)
})

t.test('without API_KEY the page opens directly, as the troubleshooting guide shows', async (t) => {
  const { app, simulator } = await buildWithSimulator(t, { env: { API_KEY: '' } })
  await linkSession(app, simulator, 'open', '628123411111')
  const page = await app.inject({ method: 'GET', url: '/api/sessions/open/qr-page' })
  t.equal(page.statusCode, 200)
  const missing = await app.inject({ method: 'GET', url: '/api/sessions/missing/qr-page' })
  t.equal(missing.statusCode, 404)
})
