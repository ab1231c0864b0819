// The HTTPS host Baileys uploads encrypted media to (the simulator answers media_conn with it).
// Its certificate is self-signed and made at start, so a client must be told to trust it.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MediaStore } from './phone.js'

export interface MediaHost extends MediaStore {
  /** host:port, as media_conn announces it. */
  hostname: string;
  certificate: string;
  uploads: number;
  stop(): Promise<void>;
}

function createCertificate (): { key: string; certificate: string } {
  const directory = mkdtempSync(join(tmpdir(), 'wa-sim-cert-'))
  try {
    const keyPath = join(directory, 'key.pem')
    const certificatePath = join(directory, 'cert.pem')
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', keyPath, '-out', certificatePath,
      ],
      { stdio: 'ignore' }
    )
    return { key: readFileSync(keyPath, 'utf8'), certificate: readFileSync(certificatePath, 'utf8') }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

export async function startMediaHost (): Promise<MediaHost> {
  const { key, certificate } = createCertificate()
  const uploadsByPath = new Map<string, Buffer>()
  let uploads = 0
  const server: Server = createServer({ key, cert: certificate }, (request, response) => {
    const path = new URL(request.url ?? '/', 'https://127.0.0.1').pathname
    if (request.method !== 'POST') {
      const stored = uploadsByPath.get(path)
      response.writeHead(stored ? 200 : 404).end(stored)
      return
    }
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      uploadsByPath.set(path, Buffer.concat(chunks))
      uploads++
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ url: `https://${hostname}${path}`, direct_path: path }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const hostname = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    hostname,
    certificate,
    get uploads () {
      return uploads
    },
    get: (directPath) => uploadsByPath.get(new URL(directPath, 'https://127.0.0.1').pathname),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
