import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import t from 'tap'
import { DEFAULT_CONNECTION_CONFIG } from '@whiskeysockets/baileys'
import { parseClientRevision, parseVersionSetting, type WhatsAppVersion } from '../src/whatsapp-version.js'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'
import { startSimulator } from './sim/index.js'

// What the transport announces when nothing newer is known: the Baileys release's own version.
const bundledWhatsAppVersion = [...DEFAULT_CONNECTION_CONFIG.version]
const current: WhatsAppVersion = [2, 3000, bundledWhatsAppVersion[2] + 1000]

async function healthVersion (app: Awaited<ReturnType<typeof buildWithSimulator>>['app']): Promise<Record<string, unknown>> {
  const response = await app.inject({ method: 'GET', url: '/api/health' })
  return response.json().checks?.whatsappVersion ?? response.json().data?.checks?.whatsappVersion
}

t.test('settings and the sw.js pattern', async (t) => {
  t.same(parseVersionSetting('auto'), 'auto')
  t.same(parseVersionSetting('bundled'), 'bundled')
  t.same(parseVersionSetting('2.3000.1043857760'), [2, 3000, 1043857760])
  t.equal(parseVersionSetting('2.2412.54'), undefined)
  t.same(parseClientRevision('self.__swData=JSON.parse("{\\"client_revision\\":1234}")'), [2, 3000, 1234])
  t.equal(parseClientRevision('<html>'), undefined)
})

t.test('a stale version gets a fresh one after a 405 and connects', async (t) => {
  // WhatsApp moved on after the service started: the version it fetched at start is refused.
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const { app } = await buildWithSimulator(t, { simulator })
  await app.whatsappVersion.settled()
  t.match(await healthVersion(app), { version: bundledWhatsAppVersion.join('.'), source: 'fetched' })
  simulator.setWebVersion(current)
  simulator.setMinimumClientVersion(current)

  const refused = simulator.waitFor('outdated-client')
  await linkSession(app, simulator, 'fresh', '6281200000931')
  t.same(await refused, { version: bundledWhatsAppVersion.join('.') })
  t.match(await healthVersion(app), { version: current.join('.'), source: 'fetched' })
  t.equal(simulator.outdatedClientRefusals, 1)
})

t.test('the version URL fails: the bundled version, and health says why', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  simulator.setWebVersion(null)
  const { app } = await buildWithSimulator(t, { simulator })
  await app.whatsappVersion.settled()
  t.match(await healthVersion(app), { version: bundledWhatsAppVersion.join('.'), source: 'bundled', lastError: /503/ })
})

t.test('an explicit WA_VERSION is used as is and never fetched', async (t) => {
  const simulator = await startSimulator({ minimumClientVersion: current })
  t.teardown(() => simulator.stop())
  const { app } = await buildWithSimulator(t, { simulator, env: { WA_VERSION: current.join('.') } })
  t.match(await healthVersion(app), { version: current.join('.'), source: 'configured', fetchedAt: null })
  await linkSession(app, simulator, 'pinned', '6281200000932')
  t.equal(simulator.outdatedClientRefusals, 0)
  const status = await app.inject({ method: 'GET', url: '/api/sessions/pinned/status', headers: authHeaders })
  t.equal(status.json().data.isConnected, true)
})

t.test('the service answers while the version is fetched, and sockets wait for the fetched one', async (t) => {
  // A version URL that holds its answer: a slow network at start. Before, the service did not
  // answer until it had the version (up to WA_VERSION_TIMEOUT_MS).
  const held: ServerResponse[] = []
  const versionServer = createServer((_request, response) => { held.push(response) })
  versionServer.listen(0, '127.0.0.1')
  await once(versionServer, 'listening')
  t.teardown(() => { versionServer.closeAllConnections(); versionServer.close() })
  const simulator = await startSimulator({ minimumClientVersion: current })
  t.teardown(() => simulator.stop())
  simulator.setWebVersion(current)
  let released = false
  function release (): void {
    released = true
    for (const response of held.splice(0)) response.end(`self.__swData=JSON.parse("{\\"client_revision\\":${current[2]}}")`)
  }
  // Only reached when the start waits for the fetch (the old behaviour): the test then fails below.
  const fallback = setTimeout(release, 5000)
  t.teardown(() => clearTimeout(fallback))
  const { port } = versionServer.address() as { port: number }
  const { app } = await buildWithSimulator(t, { simulator, env: { WA_VERSION_URL: `http://127.0.0.1:${port}/sw.js`, WA_VERSION_TIMEOUT_MS: '60000' } })
  t.equal(released, false, 'the service started before the version URL answered')
  t.match(await healthVersion(app), { version: bundledWhatsAppVersion.join('.'), source: 'bundled', lastError: null })

  const linked = linkSession(app, simulator, 'waits', '6281200000933')
  release()
  await linked
  t.equal(simulator.outdatedClientRefusals, 0, 'the socket announced the fetched version, not the bundled one')
  t.match(await healthVersion(app), { version: current.join('.'), source: 'fetched' })
})
