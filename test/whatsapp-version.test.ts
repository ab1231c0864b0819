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
