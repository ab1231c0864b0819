// The simulator's JSON control API on loopback (used by `npm run sim`, see README.md here): drive
// the phone side and WhatsApp's server decisions from another process, read what happened.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CloseKind, ReceivedMessage, WebVersion, WhatsAppSimulator } from './index.js'

const closeKinds: CloseKind[] = ['restart-required', 'replaced', 'device-removed', 'unknown']

async function readJson (request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text ? (JSON.parse(text) as Record<string, unknown>) : {}
}

function requireString (body: Record<string, unknown>, field: string): string {
  const value = body[field]
  if (typeof value !== 'string' || value === '') throw new Error(`"${field}" must be a non-empty string`)
  return value
}

/** "2.3000.1234" -> [2, 3000, 1234]; null stays null (no version). */
function parseVersion (value: unknown, field: string): WebVersion | null {
  if (value === null) return null
  const parts = typeof value === 'string' ? value.split('.').map(Number) : []
  if (parts.length !== 3 || parts.some((part) => !Number.isInteger(part) || part < 0)) {
    throw new Error(`"${field}" must be a version like "2.3000.1234" or null`)
  }
  return parts as WebVersion
}

/** A restriction end given as unix seconds; absent = no end announced. */
function parseUntil (value: unknown): Date | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error('"until" must be unix seconds')
  return new Date(value * 1000)
}

/** Media bytes are shown as base64 so the answer stays JSON. */
function describe (message: ReceivedMessage) {
  return {
    id: message.id,
    from: message.from,
    text: message.text,
    media: message.media && { ...message.media, bytes: message.media.bytes.toString('base64') },
  }
}

async function route (simulator: WhatsAppSimulator, request: IncomingMessage): Promise<[number, unknown]> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1')
  const messagesPath = url.pathname.match(/^\/phones\/(\d+)\/messages$/)
  if (request.method === 'GET' && messagesPath) {
    return [200, { messages: simulator.pendingMessages(messagesPath[1]).map(describe) }]
  }
  if (request.method === 'GET' && url.pathname === '/replaced') {
    return [200, { total: simulator.replacedConnections(), byPhone: simulator.replacedConnectionsByPhone() }]
  }
  const restrictionPath = url.pathname.match(/^\/phones\/(\d+)\/restriction$/)
  if (request.method === 'GET' && restrictionPath) {
    const restriction = simulator.restriction(restrictionPath[1])
    return [200, { restricted: !!restriction, until: restriction?.until?.toISOString(), enforcementType: restriction?.enforcementType }]
  }
  if (request.method !== 'POST') return [404, { error: 'not found' }]
  const body = await readJson(request)
  switch (url.pathname) {
    case '/scan':
      await simulator.scanQr(requireString(body, 'qr'), { phone: requireString(body, 'phone') })
      return [200, { ok: true }]
    case '/contacts':
      return [200, simulator.addContact(requireString(body, 'phone'))]
    case '/inbound': {
      const addressing = body.addressing === 'lid' ? 'lid' : 'pn'
      const options = { addressing, alternateAddress: body.alternateAddress === true } as const
      const id = await simulator.sendText(requireString(body, 'from'), requireString(body, 'to'), requireString(body, 'text'), options)
      return [200, { id }]
    }
    case '/receipts': {
      const type = body.type === 'read' ? 'read' : 'delivered'
      await simulator.sendReceipt(requireString(body, 'phone'), requireString(body, 'id'), type)
      return [200, { ok: true }]
    }
    case '/close': {
      const kind = requireString(body, 'kind') as CloseKind
      if (!closeKinds.includes(kind)) throw new Error(`"kind" must be one of ${closeKinds.join(', ')}`)
      simulator.forceClose(requireString(body, 'phone'), kind)
      return [200, { ok: true }]
    }
    case '/drop':
      simulator.dropConnections(typeof body.phone === 'string' ? body.phone : undefined)
      return [200, { ok: true }]
    case '/keep-alive':
      simulator.setKeepAliveAnswers(body.enabled !== false)
      return [200, { ok: true }]
    case '/restrict':
      simulator.restrictAccount(requireString(body, 'phone'), {
        until: parseUntil(body.until),
        ...(typeof body.enforcementType === 'string' ? { enforcementType: body.enforcementType } : {}),
        notify: body.notify !== false,
      })
      return [200, { ok: true }]
    case '/lift':
      simulator.liftRestriction(requireString(body, 'phone'), { notify: body.notify !== false })
      return [200, { ok: true }]
    case '/message-cap': {
      const { phone, notify, ...info } = body
      simulator.setNewChatMessageCap(requireString({ phone }, 'phone'), info, { notify: notify !== false })
      return [200, { ok: true }]
    }
    case '/versions':
      if ('minimum' in body) simulator.setMinimumClientVersion(parseVersion(body.minimum, 'minimum') ?? undefined)
      if ('served' in body) simulator.setWebVersion(parseVersion(body.served, 'served'))
      return [200, { ok: true, versionUrl: simulator.versionUrl }]
    default:
      return [404, { error: 'not found' }]
  }
}

/** Starts the control API on 127.0.0.1 (port 0 = a free one); resolves once it listens. */
export async function startControlApi (simulator: WhatsAppSimulator, port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    route(simulator, request)
      .then(([status, body]) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)))
      .catch((error: unknown) =>
        response
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }))
      )
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}
