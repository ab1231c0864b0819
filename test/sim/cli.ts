// `npm run sim`: the simulator as a process on a fixed port, with a small JSON control API on
// loopback, so the service can be tried end to end without a phone (see README.md here).
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startControlApi } from './control-api.js'
import { startSimulator, type WebVersion } from './index.js'

const simulatorPort = Number(process.env.SIM_PORT ?? 4500)
const controlPort = Number(process.env.SIM_CONTROL_PORT ?? simulatorPort + 1)
const version = (text: string | undefined) => (text ? (text.split('.').map(Number) as WebVersion) : undefined)

const simulator = await startSimulator({
  port: simulatorPort,
  minimumClientVersion: version(process.env.SIM_MIN_VERSION),
  webVersion: version(process.env.SIM_WEB_VERSION),
})
// The service trusts the media host with WA_EXTRA_CA_FILE=<this file>.
const certificateFile = process.env.SIM_CERT_FILE ?? join(tmpdir(), 'whatsapp-simulator-media-cert.pem')
writeFileSync(certificateFile, simulator.mediaCertificate)

const control = await startControlApi(simulator, controlPort)
console.log(`WhatsApp simulator: ${simulator.url}`)
console.log(`control API: ${control.url}`)
console.log(`WhatsApp Web version (WA_VERSION_URL): ${simulator.versionUrl}`)
console.log(`media host certificate: ${certificateFile}`)

const shutdown = () => {
  control.server.close()
  void simulator.stop().then(() => process.exit(0))
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
