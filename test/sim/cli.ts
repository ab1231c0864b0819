// `npm run sim`: the simulator as a process on a fixed port, with a small JSON control API on
// loopback, so the service can be tried end to end without a phone (see README.md here).
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type CloseKind, type ReceivedMessage } from './index.js';

const simulatorPort = Number(process.env.SIM_PORT ?? 4500);
const controlPort = Number(process.env.SIM_CONTROL_PORT ?? simulatorPort + 1);
const closeKinds: CloseKind[] = ['restart-required', 'replaced', 'device-removed', 'unknown'];

const simulator = await startSimulator({ port: simulatorPort });
// The service trusts the media host with WA_EXTRA_CA_FILE=<this file>.
const certificateFile = process.env.SIM_CERT_FILE ?? join(tmpdir(), 'whatsapp-simulator-media-cert.pem');
writeFileSync(certificateFile, simulator.mediaCertificate);

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new Error(`"${field}" must be a non-empty string`);
  return value;
}

/** Media bytes are shown as base64 so the answer stays JSON. */
function describe(message: ReceivedMessage) {
  return {
    id: message.id,
    from: message.from,
    text: message.text,
    media: message.media && { ...message.media, bytes: message.media.bytes.toString('base64') },
  };
}

async function route(request: IncomingMessage): Promise<[number, unknown]> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const messagesPath = url.pathname.match(/^\/phones\/(\d+)\/messages$/);
  if (request.method === 'GET' && messagesPath) {
    return [200, { messages: simulator.pendingMessages(messagesPath[1]).map(describe) }];
  }
  if (request.method !== 'POST') return [404, { error: 'not found' }];
  const body = await readJson(request);
  switch (url.pathname) {
    case '/scan':
      await simulator.scanQr(requireString(body, 'qr'), { phone: requireString(body, 'phone') });
      return [200, { ok: true }];
    case '/contacts':
      return [200, simulator.addContact(requireString(body, 'phone'))];
    case '/inbound':
      return [200, { id: await simulator.sendText(requireString(body, 'from'), requireString(body, 'to'), requireString(body, 'text')) }];
    case '/receipts': {
      const type = body.type === 'read' ? 'read' : 'delivered';
      await simulator.sendReceipt(requireString(body, 'phone'), requireString(body, 'id'), type);
      return [200, { ok: true }];
    }
    case '/close': {
      const kind = requireString(body, 'kind') as CloseKind;
      if (!closeKinds.includes(kind)) throw new Error(`"kind" must be one of ${closeKinds.join(', ')}`);
      simulator.forceClose(requireString(body, 'phone'), kind);
      return [200, { ok: true }];
    }
    case '/drop':
      simulator.dropConnections(typeof body.phone === 'string' ? body.phone : undefined);
      return [200, { ok: true }];
    case '/keep-alive':
      simulator.setKeepAliveAnswers(body.enabled !== false);
      return [200, { ok: true }];
    default:
      return [404, { error: 'not found' }];
  }
}

const control = createServer((request: IncomingMessage, response: ServerResponse) => {
  route(request)
    .then(([status, body]) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)))
    .catch((error: unknown) =>
      response
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) })),
    );
});
control.listen(controlPort, '127.0.0.1', () => {
  console.log(`WhatsApp simulator: ${simulator.url}`);
  console.log(`control API: http://127.0.0.1:${controlPort}`);
  console.log(`media host certificate: ${certificateFile}`);
});

const shutdown = () => {
  control.close();
  void simulator.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
