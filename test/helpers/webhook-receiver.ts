import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from '../helper.js'

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders
  rawBody: string
  event: string
  sessionId: string | null
  data: Record<string, unknown>
  // The sender's end of the connection, to tell which process sent it (connectionOwner).
  remotePort: number
}

// Answers one request; `index` counts requests from 0. The default answers 204.
export type WebhookAnswer = (request: ReceivedWebhook, response: ServerResponse, index: number) => void

export interface WebhookReceiver {
  url: string
  requests: ReceivedWebhook[]
  answer: WebhookAnswer
  // The first request, already received or still to come, that matches.
  waitFor: (matches: (request: ReceivedWebhook) => boolean, timeoutMs?: number) => Promise<ReceivedWebhook>
}

// A real HTTP server on 127.0.0.1, the way a user's webhook endpoint would be.
export async function startWebhookReceiver (t: TestContext): Promise<WebhookReceiver> {
  const waiters = new Set<() => void>()
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8')
      const { event, sessionId, data } = JSON.parse(rawBody) as { event: string, sessionId: string | null, data: Record<string, unknown> }
      const remotePort = incoming.socket.remotePort ?? 0
      const request: ReceivedWebhook = { headers: incoming.headers, rawBody, event, sessionId, data, remotePort }
      receiver.requests.push(request)
      receiver.answer(request, response, receiver.requests.length - 1)
      for (const wake of waiters) wake()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests: [],
    answer: (_request, response) => response.writeHead(204).end(),
    waitFor: async (matches, timeoutMs = 10_000) => await new Promise((resolve, reject) => {
      const check = (): void => {
        const found = receiver.requests.find(matches)
        if (found === undefined) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve(found)
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no matching webhook within ${timeoutMs} ms; received: ${receiver.requests.map((request) => request.event).join(', ')}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  }
  return receiver
}
