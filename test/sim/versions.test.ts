import { DEFAULT_CONNECTION_CONFIG, type WAVersion } from '@whiskeysockets/baileys'
import t from 'tap'
import { closeBaileysClient, linkBaileysSocket, newAuthDirectory, openBaileysSocket } from './baileys-client.js'
import { startSimulator, type WebVersion } from './index.js'

const bundled = DEFAULT_CONNECTION_CONFIG.version as WebVersion
const current: WebVersion = [2, 3000, bundled[2] + 1000]

/**
 * What Baileys' fetchLatestWaWebVersion does with web.whatsapp.com/sw.js (Utils/generics.js; its
 * URL is fixed, so the service fetches WA_VERSION_URL itself and reads it the same way).
 */
async function readServedVersion (url: string): Promise<WAVersion | undefined> {
  const response = await fetch(url)
  if (!response.ok) return undefined
  const match = (await response.text()).match(/\\?"client_revision\\?":\s*(\d+)/)
  return match ? [2, 3000, Number(match[1])] : undefined
}

t.test('an outdated client is refused with 405; the served version connects', async (t) => {
  const simulator = await startSimulator({ minimumClientVersion: current, webVersion: current })
  t.teardown(() => simulator.stop())
  t.match(simulator.versionUrl, /^http:\/\/127\.0\.0\.1:\d+\/sw\.js$/)

  t.test('a registration with Baileys bundled version: 405 before any QR', async (t) => {
    const outdated = simulator.waitFor('outdated-client')
    const client = await openBaileysSocket(simulator, await newAuthDirectory())
    t.teardown(() => closeBaileysClient(client))
    t.same(await client.closed, { statusCode: 405, message: 'Connection Failure' })
    t.same(await outdated, { version: bundled.join('.') })
    t.equal(simulator.registrations, 0)
  })

  t.test('the version read from the served sw.js links and logs in', async (t) => {
    const version = await readServedVersion(simulator.versionUrl)
    t.same(version, current)
    const client = await linkBaileysSocket(simulator, { phone: '6281200000201', overrides: { version } })
    t.teardown(() => closeBaileysClient(client))
    t.equal(simulator.connectionCount('6281200000201'), 1)

    // The same saved credentials with the old version: refused at login too.
    client.socket.end(undefined)
    await client.closed
    const stale = await openBaileysSocket(simulator, client.authDirectory, { version: bundled })
    t.same(await stale.closed, { statusCode: 405, message: 'Connection Failure' })
    t.equal(simulator.outdatedClientRefusals, 2)
  })

  t.test('no minimum: any version is accepted; the served version can change or fail', async (t) => {
    simulator.setMinimumClientVersion(undefined)
    const client = await linkBaileysSocket(simulator, { phone: '6281200000202' })
    t.teardown(() => closeBaileysClient(client))
    simulator.setWebVersion([2, 3000, 5])
    t.same(await readServedVersion(simulator.versionUrl), [2, 3000, 5])
    simulator.setWebVersion(null)
    t.equal((await fetch(simulator.versionUrl)).status, 503)
    t.equal((await fetch(simulator.versionUrl.replace('/sw.js', '/other'))).status, 404)
    t.same(simulator.problems, [])
  })
})

t.test('by default /sw.js announces Baileys bundled version', async (t) => {
  const simulator = await startSimulator()
  t.teardown(() => simulator.stop())
  const body = await (await fetch(simulator.versionUrl)).text()
  t.match(body, `\\"client_revision\\":${bundled[2]}`, 'escaped inside a JSON string, as web.whatsapp.com serves it')
  t.same(await readServedVersion(simulator.versionUrl), bundled)
})
