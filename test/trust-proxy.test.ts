import { readFile } from 'node:fs/promises'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { publicUrlFor } from '../src/public-url.js'
import { authHeaders, build, buildWithSimulator } from './helper.js'

// What the service needs to run behind a reverse proxy, without one: the TRUST_PROXY setting,
// links under PUBLIC_URL's path, and paths relative to where a browser loaded them.
// test/reverse-proxy.test.ts runs all of it behind a real nginx.

t.test('TRUST_PROXY: true or false, or the proxies\' addresses and CIDR ranges', async (t) => {
  const read = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy
  t.equal(loadConfig({}).trustProxy, false)
  t.equal(read('true'), true)
  t.equal(read('1'), true, 'as before: 1 is true')
  t.equal(read('false'), false)
  t.same(read('127.0.0.1'), ['127.0.0.1'])
  t.same(read(' 127.0.0.1, 172.16.0.0/12 ,fd00::/8,loopback'), ['127.0.0.1', '172.16.0.0/12', 'fd00::/8', 'loopback'])
  for (const [value, why] of [['2', /hop count is not supported/], ['proxy.local', /invalid IP address: proxy\.local/], ['10.0.0.0/33', /invalid range/], [',', /no address given/], ['maybe', /true or false/]] as const) {
    t.throws(() => read(value), { name: 'ConfigError', message: /TRUST_PROXY must be/ }, value)
    t.throws(() => read(value), { message: why }, value)
    t.throws(() => read(value), ConfigError)
  }
})

t.test('a client that is not the trusted proxy cannot escape the rate limit with X-Forwarded-For', async (t) => {
  // A real socket: the service is reached directly from 127.0.0.1, the proxy would be 127.0.0.2.
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.2', API_KEY: '' } })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  const statuses: number[] = []
  for (let index = 1; index <= 4; index++) {
    statuses.push((await fetch(`${base}/api/health`, { headers: { 'x-forwarded-for': `198.51.100.${index}` } })).status)
  }
  t.same(statuses, [200, 200, 429, 429], 'a new forwarded address on every request changes nothing')

  // The same requests from the trusted proxy's address do carry the client's address.
  const fromProxy = await build(t, { env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: '127.0.0.1', API_KEY: '' } })
  const proxied = async (forwardedFor: string) =>
    (await fromProxy.app.inject({ method: 'GET', url: '/api/health', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': forwardedFor } })).statusCode
  t.same([await proxied('198.51.100.1'), await proxied('198.51.100.2'), await proxied('198.51.100.1')], [200, 200, 429])
})

t.test('links under PUBLIC_URL keep its path', async (t) => {
  t.equal(publicUrlFor('https://example.com/wa', '/api/health'), 'https://example.com/wa/api/health')
  t.equal(publicUrlFor('https://example.com/wa/', 'docs'), 'https://example.com/wa/docs')
  t.equal(publicUrlFor('https://example.com', '/docs/json'), 'https://example.com/docs/json')
  t.equal(publicUrlFor('http://example.com:8080/a/b', '/api/x?token=1'), 'http://example.com:8080/a/b/api/x?token=1')

  const { app } = await buildWithSimulator(t, { env: { PUBLIC_URL: 'https://example.com/wa' } })
  await app.inject({ method: 'POST', url: '/api/sessions/create', headers: authHeaders, payload: { sessionId: 'prefixed' } })
  const link = await app.inject({ method: 'POST', url: '/api/sessions/prefixed/qr-link', headers: authHeaders, payload: {} })
  t.match(link.json().data.url, /^https:\/\/example\.com\/wa\/api\/sessions\/prefixed\/qr-page\?token=/)
  const root = await app.inject({ method: 'GET', url: '/' })
  t.same(root.json().data.links, { docs: 'https://example.com/wa/docs', openapi: 'https://example.com/wa/docs/json', health: 'https://example.com/wa/api/health' })
})

t.test('without PUBLIC_URL, what a browser loads is relative to where it loaded it', async (t) => {
  const { app } = await build(t)
  const root = await app.inject({ method: 'GET', url: '/' })
  t.same(root.json().data.links, { docs: 'docs', openapi: 'docs/json', health: 'api/health' })

  const docs = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(docs.statusCode, 200)
  t.notMatch(docs.body, /(src|href)="\//, 'the Swagger UI page links its assets relatively')
  t.match(docs.body, /src="\.\/docs\/static\/swagger-ui-bundle\.js"/)
  const served = await app.inject({ method: 'GET', url: '/docs/json' })
  t.same(served.json().servers, [
    { url: '..', description: 'This service, where these docs were loaded from' },
    { url: 'http://localhost:3000', description: 'The service on this machine (set PUBLIC_URL to publish its public address)' }
  ], 'Swagger UI calls the service where it loaded the docs from')

  const committed = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as { servers: Array<{ url: string }> }
  t.same(committed.servers.map((server) => server.url), ['http://localhost:3000'], 'SDK generators read an absolute server from the file')
})

t.test('with PUBLIC_URL, the document names it as the server', async (t) => {
  const { app } = await build(t, { env: { PUBLIC_URL: 'https://example.com/wa/' } })
  t.same((app.swagger() as { servers: unknown }).servers, [{ url: 'https://example.com/wa', description: 'PUBLIC_URL' }])
})
