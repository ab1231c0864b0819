import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { rootCertificates } from 'node:tls'

// An HTTPS agent that trusts an extra CA (a corporate TLS proxy, or a local WhatsApp simulator)
// on top of the usual roots, not instead of them; none without one.
export function extraCaAgent (extraCaFile: string | undefined): Agent | undefined {
  if (extraCaFile === undefined) return undefined
  return new Agent({ ca: [...rootCertificates, readFileSync(extraCaFile, 'utf8')], keepAlive: true })
}
