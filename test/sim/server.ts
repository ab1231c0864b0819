// The simulated WhatsApp Web server: accepts Baileys' WebSocket, runs the Noise handshake,
// registers (QR) or logs in linked devices, answers the queries Baileys makes, routes messages
// between linked devices and simulated phones, and closes connections the way WhatsApp does.
import {
  Curve,
  DEFAULT_CONNECTION_CONFIG,
  QueryIds,
  S_WHATSAPP_NET,
  type NewChatMessageCapInfo,
  decodeBinaryNode,
  encodeBinaryNode,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  hmacSign,
  jidDecode,
  proto,
  type BinaryNode,
} from '@whiskeysockets/baileys'
import { EventEmitter } from 'node:events'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { deflateSync } from 'node:zlib'
import { WebSocketServer, type WebSocket } from 'ws'
import { startMediaHost, type MediaHost } from './media-host.js'
import { FrameReader, ServerHandshake, createServerIdentity, encodeFrame, type ServerIdentity, type TransportCipher } from './noise.js'
import { Phone, randomMessageId, type DevicePublicKeys, type ReceivedMessage } from './phone.js'

export type CloseKind = 'restart-required' | 'replaced' | 'device-removed' | 'unknown'

export interface SimulatorOptions {
  /** Refs sent in pair-device: Baileys shows one QR per ref, then closes with 408. Default 6. */
  qrRefs?: number;
  /** Delay before a receipt asked with sendReceipt goes out. Default 250 ms. */
  receiptDelayMs?: number;
  /** Port of the WebSocket server; 0 (default) picks a free one. */
  port?: number;
  /**
   * After a newly linked device's first login, the phone sends it the initial history sync
   * notification, as WhatsApp does. Until that arrives (or for 20 s) Baileys holds the events it
   * emits outside message/receipt handling, such as the upsert of its own sends. Default true;
   * false shows that 20 s wait.
   */
  initialHistorySync?: boolean;
  /**
   * Logins and registrations whose ClientPayload.userAgent.appVersion is below this are answered
   * `<failure reason="405"/>`, as WhatsApp answers an outdated client. Default: none.
   */
  minimumClientVersion?: WebVersion;
  /** The version `GET /sw.js` announces (its client_revision). Default: Baileys' bundled version. */
  webVersion?: WebVersion;
}

/** A WhatsApp Web version as Baileys writes it: [2, 3000, client_revision]. */
export type WebVersion = [number, number, number]

/** What WhatsApp tells an account about its reach-out timelock (the restriction on new chats). */
export interface Restriction {
  /** When it ends; undefined = no end given (WA Web then assumes now + 60 s). */
  until?: Date;
  /** One of Baileys' ReachoutTimelockEnforcementType values. */
  enforcementType: string;
}

export interface RestrictOptions {
  until?: Date;
  enforcementType?: string;
  /** Push the mex notification to the account's open devices (default true), as WhatsApp does. */
  notify?: boolean;
}

export interface InboundTextOptions {
  /** How the stanza names the sender: its phone number (`pn`, default) or its LID (`lid`). */
  addressing?: 'pn' | 'lid';
  /**
   * Add the sender's other address: `sender_pn` on a LID-addressed stanza, `sender_lid` on a
   * PN-addressed one (Baileys reads them into key.remoteJidAlt and stores the LID mapping).
   */
  alternateAddress?: boolean;
}

/** A linked device: a Baileys socket that was registered by a scan. */
export interface LinkedDevice {
  phone: Phone;
  deviceId: number;
  jid: string;
  lid: string;
  noiseKey: Buffer;
  keys: DevicePublicKeys;
  /** The phone sent this device its initial history sync (only once, after the first login). */
  initialHistorySyncSent: boolean;
}

export interface SimulatedContact {
  phone: string;
  jid: string;
  lid: string;
}

export interface SimulatorEvents {
  registration: { noiseKey: string };
  paired: { phone: string; jid: string };
  login: { phone: string; device: number; accepted: boolean };
  /** The server answered encrypt/digest, the last query Baileys awaits before emitting connection 'open'. */
  open: { phone: string; device: number };
  'pairing-code': { phone: string };
  message: { phone: string; message: ReceivedMessage };
  /** The phone sent a newly linked device its initial history sync notification. */
  'history-sync': { phone: string; device: number; messageId: string };
  /** Baileys asked for app state collections (w:sync:app:state); all are answered empty. */
  'app-state-sync': { phone: string; device: number; collections: string[] };
  'connection-closed': { phone?: string };
  /** A second login of the same device: the older connection got stream:error conflict replaced. */
  replaced: { phone: string; device: number };
  /** A restricted account's message to a new contact was refused with a 463 nack. */
  'message-refused': { phone: string; to: string; messageId: string };
  /** A login or registration with a client version below minimumClientVersion was refused with 405. */
  'outdated-client': { version: string };
  /** A contact's text went out to a linked device (sendText), encrypted as pkmsg or msg. */
  inbound: { phone: string; from: string; messageId: string; encType: 'pkmsg' | 'msg'; addressing: 'pn' | 'lid' };
  /** A restricted account's message carried the recipient's valid privacy token and went out. */
  'token-accepted': { phone: string; to: string; messageId: string };
  /** Baileys acked a notification the server pushed (it has handled it). */
  'notification-acked': { phone?: string; id: string; type: string };
}

export type SimulatorEventName = keyof SimulatorEvents

const CLOSE_NODES: Record<CloseKind, BinaryNode> = {
  'restart-required': { tag: 'stream:error', attrs: { code: '515' } },
  replaced: { tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] },
  'device-removed': {
    tag: 'stream:error',
    attrs: { code: '401' },
    content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }],
  },
  // No code and a child Baileys does not know: it falls back to 500 (badSession).
  unknown: { tag: 'stream:error', attrs: {}, content: [{ tag: 'simulated-unknown-error', attrs: {} }] },
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000))

/** A contact's privacy token for an account: opaque bytes and when it was issued (unix seconds). */
export interface PrivacyToken {
  token: Buffer;
  t: number;
}

// WhatsApp honours a token for a rolling window of 4 weekly buckets, as Baileys 7.0.0-rc14 reads
// it (Utils/tc-token-utils.js isTcTokenExpired): the simulator refuses what Baileys would drop.
const TOKEN_BUCKET_SECONDS = 7 * 24 * 60 * 60
function privacyTokenExpired (issuedAt: number, now = Math.floor(Date.now() / 1000)): boolean {
  return issuedAt < (Math.floor(now / TOKEN_BUCKET_SECONDS) - 3) * TOKEN_BUCKET_SECONDS
}

const nodeText = (content: BinaryNode['content']): string =>
  typeof content === 'string' ? content : content instanceof Uint8Array ? Buffer.from(content).toString('utf8') : ''

const nodeBytes = (content: BinaryNode['content']): Buffer =>
  content instanceof Uint8Array ? Buffer.from(content) : Buffer.from(typeof content === 'string' ? content : '')

/** How long a replaced connection may stay open after its conflict stream error. */
const REPLACED_GRACE_MS = 2000

const versionText = (version: WebVersion) => version.join('.')

function isOlder (version: WebVersion, than: WebVersion): boolean {
  for (let index = 0; index < 3; index++) {
    if (version[index] !== than[index]) return version[index] < than[index]
  }
  return false
}

/**
 * What web.whatsapp.com/sw.js carries: a service worker whose inlined site data holds
 * `\"client_revision\":N` (escaped, inside a JSON string). Baileys' fetchLatestWaWebVersion
 * matches /\\?"client_revision\\?":\s*(\d+)/ and builds [2, 3000, N].
 */
function serviceWorkerScript (version: WebVersion): string {
  const siteData = JSON.stringify({
    dynamic_data: { SiteData: { server_revision: version[2], client_revision: version[2] } },
  })
  return `/*simulated web.whatsapp.com service worker*/\nself.__swData=JSON.parse(/*BTDS*/${JSON.stringify(siteData)});\n`
}

/** A `<notification type="mex">` as WhatsApp pushes GraphQL updates: `<update op_name>` with JSON data. */
function mexNotification (operation: string, data: Record<string, unknown>): BinaryNode {
  return {
    tag: 'notification',
    attrs: { from: S_WHATSAPP_NET, type: 'mex', id: randomMessageId(), t: nowSeconds() },
    content: [{ tag: 'update', attrs: { op_name: operation }, content: Buffer.from(JSON.stringify({ data })) }],
  }
}

function resultIq (request: BinaryNode, content?: BinaryNode[]): BinaryNode {
  return { tag: 'iq', attrs: { from: S_WHATSAPP_NET, type: 'result', id: request.attrs.id }, ...(content ? { content } : {}) }
}

/** One WebSocket from one Baileys socket. */
class Connection {
  private readonly frames = new FrameReader()
  private readonly handshake: ServerHandshake
  private transport?: TransportCipher
  private processing: Promise<void> = Promise.resolve()
  private sentServerHello = false
  private readonly repliesAwaited = new Map<string, (node: BinaryNode) => void>()
  private terminateTimer?: NodeJS.Timeout
  noiseKey?: Buffer
  /** Set while the socket is registering (showing QR codes). */
  registeringKeys?: DevicePublicKeys
  pairDeviceRefs: string[] = []
  /** Set once the socket logged in with saved credentials. */
  linkedDevice?: LinkedDevice
  closed = false
  /** A newer login of the same device took over; this one was sent conflict replaced. */
  replaced = false

  constructor (
    readonly socket: WebSocket,
    identity: ServerIdentity,
    private readonly simulator: Simulator
  ) {
    this.handshake = new ServerHandshake(identity)
    socket.on('message', (data: Buffer) => this.receive(data))
    socket.on('close', () => {
      this.closed = true
      clearTimeout(this.terminateTimer)
      simulator.forgetConnection(this)
    })
    socket.on('error', () => socket.terminate())
  }

  private receive (data: Buffer): void {
    try {
      for (const frame of this.frames.push(data)) this.receiveFrame(frame)
    } catch (error) {
      this.simulator.report(error)
      this.socket.terminate()
    }
  }

  private receiveFrame (frame: Buffer): void {
    if (this.transport) {
      // Decrypt now (the counter must follow arrival order); decode and handle one node at a time.
      const plaintext = this.transport.decrypt(frame)
      this.processing = this.processing
        .then(async () => this.simulator.handleNode(this, await decodeBinaryNode(plaintext)))
        .catch((error: unknown) => this.simulator.report(error))
      return
    }
    if (!this.sentServerHello) {
      this.socket.send(encodeFrame(this.handshake.answerClientHello(frame)))
      this.sentServerHello = true
      return
    }
    const { clientStaticKey, clientPayload, transport } = this.handshake.readClientFinish(frame)
    this.noiseKey = clientStaticKey
    this.transport = transport
    this.simulator.handleClientPayload(this, clientPayload)
  }

  send (node: BinaryNode): void {
    if (!this.transport || this.closed) return
    this.socket.send(encodeFrame(this.transport.encrypt(encodeBinaryNode(node))))
  }

  /** Sends an iq and resolves with the client's reply (matched by id). */
  query (node: BinaryNode, timeoutMs = 5000): Promise<BinaryNode> {
    const id = node.attrs.id
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.repliesAwaited.delete(id)
        reject(new Error(`no reply to ${node.tag} ${id} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.repliesAwaited.set(id, (reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
      this.send(node)
    })
  }

  /**
   * Sends a stream error and closes the socket after a grace period if the client has not closed
   * it by then (WhatsApp does not keep a replaced socket; a paused client never reads the error).
   */
  sendAndClose (node: BinaryNode, graceMs: number): void {
    this.send(node)
    this.terminateTimer = setTimeout(() => this.socket.terminate(), graceMs)
    this.terminateTimer.unref()
  }

  /** True when the node was a reply this connection was waiting for. */
  takeReply (node: BinaryNode): boolean {
    const resolve = this.repliesAwaited.get(node.attrs.id)
    if (!resolve) return false
    this.repliesAwaited.delete(node.attrs.id)
    resolve(node)
    return true
  }
}

export class Simulator {
  url = ''
  private readonly identity = createServerIdentity()
  private httpServer?: HttpServer
  private webSocketServer?: WebSocketServer
  private mediaHost?: MediaHost
  private readonly connections = new Set<Connection>()
  private readonly phonesByNumber = new Map<string, Phone>()
  private readonly phonesByLid = new Map<string, Phone>()
  private readonly linkedDevices = new Map<string, LinkedDevice>()
  private readonly sentMessages = new Map<string, { connection: Connection; recipient: Phone }>()
  private readonly rejectedLoginPhones = new Set<string>()
  private readonly restrictions = new Map<string, Restriction>()
  /** Per account: the numbers it has a chat with (they wrote to it, or it wrote to them unrefused). */
  private readonly chats = new Map<string, Set<string>>()
  /**
   * Privacy tokens (tctokens), keyed `<account>><contact>`: the token the contact's client issued
   * to the account. A restricted account's message to the contact must carry it.
   */
  private readonly privacyTokens = new Map<string, PrivacyToken>()
  private readonly messageCaps = new Map<string, NewChatMessageCapInfo>()
  private readonly replacedByPhone = new Map<string, number>()
  private minimumClientVersion?: WebVersion
  private webVersion: WebVersion | null
  private readonly events = new EventEmitter()
  private answerKeepAlive = true
  private nextLidUser = 100000000000001
  registrations = 0
  logins = 0
  /** Initial history sync notifications the phones sent to newly linked devices. */
  initialHistorySyncs = 0
  /** Logins and registrations refused with 405 because of their client version. */
  outdatedClientRefusals = 0
  /** 463 nacks sent: restricted accounts' messages to new contacts. */
  refusedMessages = 0
  readonly pairingCodeRequests: Array<{ phone: string }> = []
  /** Errors met while handling client traffic (also written to stderr). */
  readonly problems: string[] = []

  constructor (private readonly options: SimulatorOptions = {}) {
    this.events.setMaxListeners(0)
    this.minimumClientVersion = options.minimumClientVersion
    this.webVersion = options.webVersion ?? (DEFAULT_CONNECTION_CONFIG.version as WebVersion)
  }

  /** Where the simulated web.whatsapp.com/sw.js is served (for WA_VERSION_URL). */
  get versionUrl (): string {
    return this.url.replace(/^ws:/, 'http:').replace(/\/ws\/chat$/, '/sw.js')
  }

  get mediaCertificate (): string {
    if (!this.mediaHost) throw new Error('simulator not started')
    return this.mediaHost.certificate
  }

  /** The simulator's own Noise root key (Baileys rc14 does not check it; see README). */
  get rootPublicKey (): Buffer {
    return this.identity.rootPublicKey
  }

  async start (): Promise<void> {
    this.mediaHost = await startMediaHost()
    this.httpServer = createServer((request, response) => {
      if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://127.0.0.1').pathname !== '/sw.js') {
        response.writeHead(404).end()
      } else if (!this.webVersion) {
        response.writeHead(503).end()
      } else {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(serviceWorkerScript(this.webVersion))
      }
    })
    this.webSocketServer = new WebSocketServer({ server: this.httpServer, path: '/ws/chat' })
    this.webSocketServer.on('connection', (socket) => this.connections.add(new Connection(socket, this.identity, this)))
    await new Promise<void>((resolve) => this.httpServer!.listen(this.options.port ?? 0, '127.0.0.1', resolve))
    this.url = `ws://127.0.0.1:${(this.httpServer.address() as AddressInfo).port}/ws/chat`
  }

  async stop (): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate()
    this.connections.clear()
    await new Promise<void>((resolve) => this.webSocketServer?.close(() => resolve()) ?? resolve())
    await new Promise<void>((resolve) => {
      this.httpServer?.closeAllConnections()
      this.httpServer?.close(() => resolve()) ?? resolve()
    })
    await this.mediaHost?.stop()
  }

  report (error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
    this.problems.push(text)
    console.error('[whatsapp simulator]', text)
  }

  forgetConnection (connection: Connection): void {
    this.connections.delete(connection)
    this.emit('connection-closed', { phone: connection.linkedDevice?.phone.phone })
  }

  // ---- events -------------------------------------------------------------------------------

  private emit<E extends SimulatorEventName>(event: E, payload: SimulatorEvents[E]): void {
    this.events.emit(event, payload)
  }

  /** Calls the listener on every event of that name until the returned function is called. */
  on<E extends SimulatorEventName>(event: E, listener: (payload: SimulatorEvents[E]) => void): () => void {
    this.events.on(event, listener)
    return () => this.events.off(event, listener)
  }

  /** Resolves with the next event of that name (matching the predicate) emitted after this call. */
  waitFor<E extends SimulatorEventName>(
    event: E,
    predicate: (payload: SimulatorEvents[E]) => boolean = () => true,
    timeoutMs = 10000
  ): Promise<SimulatorEvents[E]> {
    return new Promise((resolve, reject) => {
      const listener = (payload: SimulatorEvents[E]) => {
        if (!predicate(payload)) return
        clearTimeout(timer)
        this.events.off(event, listener)
        resolve(payload)
      }
      const timer = setTimeout(() => {
        this.events.off(event, listener)
        reject(new Error(`simulator event '${event}' did not happen within ${timeoutMs} ms`))
      }, timeoutMs)
      this.events.on(event, listener)
    })
  }

  // ---- phones --------------------------------------------------------------------------------

  private phoneFor (number: string): Phone {
    const digits = number.replace(/\D/g, '')
    let phone = this.phonesByNumber.get(digits)
    if (!phone) {
      phone = new Phone(digits, String(this.nextLidUser++))
      this.phonesByNumber.set(digits, phone)
      this.phonesByLid.set(phone.lidUser, phone)
    }
    return phone
  }

  addContact (number: string): SimulatedContact {
    const phone = this.phoneFor(number)
    return { phone: phone.phone, jid: phone.jid, lid: phone.lid }
  }

  /** The phone a jid (phone number or LID, any device) belongs to, if it is on the simulated WhatsApp. */
  private phoneOfJid (jid: string | undefined): Phone | undefined {
    const decoded = jidDecode(jid)
    if (!decoded) return undefined
    if (decoded.server === 'lid') return this.phonesByLid.get(decoded.user)
    return this.phonesByNumber.get(decoded.user)
  }

  nextMessage (number: string, options: { timeoutMs?: number } = {}): Promise<ReceivedMessage> {
    return this.phoneFor(number).nextMessage(options.timeoutMs ?? 5000)
  }

  /** Messages a phone received and no nextMessage call has taken yet. */
  pendingMessages (number: string): ReceivedMessage[] {
    return this.phoneFor(number).pendingMessages()
  }

  // ---- connection control --------------------------------------------------------------------

  private connectionsOf (number?: string): Connection[] {
    const digits = number?.replace(/\D/g, '')
    return [...this.connections].filter(
      (connection) => !connection.closed && !connection.replaced &&
        (digits === undefined || connection.linkedDevice?.phone.phone === digits)
    )
  }

  setKeepAliveAnswers (enabled: boolean): void {
    this.answerKeepAlive = enabled
  }

  dropConnections (number?: string): void {
    for (const connection of this.connectionsOf(number)) connection.socket.terminate()
  }

  forceClose (number: string, kind: CloseKind): void {
    const connections = this.connectionsOf(number)
    if (connections.length === 0) throw new Error(`no open connection for ${number}`)
    // The client closes the socket itself when it reads the stream error.
    for (const connection of connections) connection.send(CLOSE_NODES[kind])
  }

  rejectLogins (number: string, enabled: boolean): void {
    const digits = number.replace(/\D/g, '')
    if (enabled) this.rejectedLoginPhones.add(digits)
    else this.rejectedLoginPhones.delete(digits)
  }

  /**
   * Second logins of a device that replaced an open connection (`conflict type="replaced"`, 440 in
   * Baileys): all accounts, or one. Forced closes (forceClose 'replaced') are not counted.
   */
  replacedConnections (number?: string): number {
    if (number !== undefined) return this.replacedByPhone.get(number.replace(/\D/g, '')) ?? 0
    return [...this.replacedByPhone.values()].reduce((sum, count) => sum + count, 0)
  }

  /** Replaced connections per account, for the control API. */
  replacedConnectionsByPhone (): Record<string, number> {
    return Object.fromEntries(this.replacedByPhone)
  }

  // ---- versions ------------------------------------------------------------------------------

  /** Refuse clients older than this with 405; undefined accepts every version. */
  setMinimumClientVersion (version: WebVersion | undefined): void {
    this.minimumClientVersion = version
  }

  /** The version /sw.js announces; null makes it answer 503. */
  setWebVersion (version: WebVersion | null): void {
    this.webVersion = version
  }

  // ---- restrictions (reach-out timelock) ------------------------------------------------------

  /** The account's restriction now, if any (one whose end has passed is gone). */
  restriction (number: string): Restriction | undefined {
    const digits = number.replace(/\D/g, '')
    const restriction = this.restrictions.get(digits)
    if (restriction?.until && restriction.until.getTime() <= Date.now()) {
      this.restrictions.delete(digits)
      return undefined
    }
    return restriction
  }

  /**
   * Restricts an account the way WhatsApp's reach-out timelock does: its messages to contacts it
   * has no chat with are refused with a 463 nack; existing chats keep working. By default the
   * open devices are told with the NotificationUserReachoutTimelockUpdate mex notification.
   */
  restrictAccount (number: string, options: RestrictOptions = {}): void {
    const digits = number.replace(/\D/g, '')
    const restriction: Restriction = { until: options.until, enforcementType: options.enforcementType ?? 'DEFAULT' }
    this.restrictions.set(digits, restriction)
    if (options.notify !== false) this.pushReachoutTimelock(digits, restriction)
  }

  /** Lifts the restriction and (by default) tells the open devices with is_active false. */
  liftRestriction (number: string, options: { notify?: boolean } = {}): void {
    const digits = number.replace(/\D/g, '')
    this.restrictions.delete(digits)
    if (options.notify !== false) this.pushReachoutTimelock(digits, undefined)
  }

  /** The payload WhatsApp uses for the timelock, in the notification and in the fetch query. */
  private reachoutTimelockPayload (restriction: Restriction | undefined): Record<string, unknown> {
    if (!restriction) return { is_active: false, time_enforcement_ends: '0', enforcement_type: 'DEFAULT' }
    return {
      is_active: true,
      time_enforcement_ends: restriction.until ? String(Math.floor(restriction.until.getTime() / 1000)) : '0',
      enforcement_type: restriction.enforcementType,
    }
  }

  /** Pushes the timelock state to the account's open devices; returns the notification ids. */
  pushReachoutTimelock (number: string, restriction: Restriction | undefined = this.restriction(number)): string[] {
    const payload = this.reachoutTimelockPayload(restriction)
    // An omitted end makes Baileys assume now + 60 s; '0' would read as 1970 in the notification.
    if (payload.time_enforcement_ends === '0') delete payload.time_enforcement_ends
    return this.pushNotification(number, mexNotification('NotificationUserReachoutTimelockUpdate', {
      xwa2_notify_account_reachout_timelock: payload,
    }))
  }

  /**
   * Sets what the new-chat message cap query (xwa2_message_capping_info) answers for the account
   * and pushes it as MessageCappingInfoNotification (Baileys emits 'message-capping.update').
   */
  setNewChatMessageCap (number: string, info: NewChatMessageCapInfo, options: { notify?: boolean } = {}): string[] {
    const digits = number.replace(/\D/g, '')
    this.messageCaps.set(digits, info)
    if (options.notify === false) return []
    return this.pushNotification(digits, mexNotification('MessageCappingInfoNotification', {
      xwa2_notify_new_chat_messages_capping_info_update: this.newChatMessageCap(digits),
    }))
  }

  /** The cap info answered for an account: what was set, with used_quota counting its new chats. */
  private newChatMessageCap (digits: string): NewChatMessageCapInfo {
    const now = Math.floor(Date.now() / 1000)
    return {
      total_quota: 0,
      used_quota: this.chatsOf(digits).size,
      cycle_start_timestamp: String(now - 86400),
      cycle_end_timestamp: String(now + 86400 * 27),
      server_sent_timestamp: String(now),
      capping_status: 'NONE' as NewChatMessageCapInfo['capping_status'],
      ...this.messageCaps.get(digits),
    }
  }

  // ---- privacy tokens (tctokens) ---------------------------------------------------------------

  /** The token the contact issued to the account, if any (expired ones included). */
  privacyToken (account: string, contact: string): PrivacyToken | undefined {
    return this.privacyTokens.get(`${account.replace(/\D/g, '')}>${contact.replace(/\D/g, '')}`)
  }

  /**
   * The contact's client issues its token to the account (a fresh one, or the same bytes with a
   * new time). Exposed so a test can place a chat the phone had before a device was linked.
   */
  issuePrivacyToken (account: string, contact: string, issuedAt = Math.floor(Date.now() / 1000)): PrivacyToken {
    const key = `${account.replace(/\D/g, '')}>${contact.replace(/\D/g, '')}`
    const token = { token: this.privacyTokens.get(key)?.token ?? randomBytes(24), t: issuedAt }
    this.privacyTokens.set(key, token)
    return token
  }

  /** Whether the stanza carries `<tctoken>` with the recipient's valid token for the account. */
  private carriesPrivacyToken (account: string, recipient: string, stanza: BinaryNode): boolean {
    const presented = getBinaryNodeChild(stanza, 'tctoken')?.content
    const issued = this.privacyToken(account, recipient)
    if (!issued || !(presented instanceof Uint8Array) || privacyTokenExpired(issued.t)) return false
    return Buffer.from(presented).equals(issued.token)
  }

  /**
   * Answers Baileys' issuePrivacyTokens (iq xmlns=privacy type=set, <tokens><token jid t
   * type=trusted_contact/></tokens>), sent after each 1:1 message and after a 463: the answer
   * carries, per contact, the token that contact issued to the account, where it issued one
   * (Baileys reads it with storeTcTokensFromIqResult). A contact that never wrote issued nothing,
   * so issuing after a 463 does not open the way by itself. Observed with rc14: what Baileys
   * stores from this answer after a send is lost (the write runs in the send's key-store
   * transaction context, already committed), so the later send carries no token from it.
   */
  private answerPrivacyTokens (connection: Connection, tokens: BinaryNode): BinaryNode[] {
    const account = connection.linkedDevice?.phone.phone
    const answered: BinaryNode[] = []
    for (const requested of getBinaryNodeChildren(tokens, 'token')) {
      const contact = this.phoneOfJid(requested.attrs.jid)
      const issued = account && contact ? this.privacyToken(account, contact.phone) : undefined
      if (!contact || !issued) continue
      answered.push({ tag: 'token', attrs: { jid: contact.jid, t: String(issued.t), type: 'trusted_contact' }, content: issued.token })
    }
    return answered.length === 0 ? [] : [{ tag: 'tokens', attrs: {}, content: answered }]
  }

  /**
   * Pushes a `privacy_token` notification to the account's open devices, as WhatsApp does when a
   * contact's client issues its token (it writes to the account). Baileys stores the token under
   * the contact's LID (handlePrivacyTokenNotification: sender_lid, else its own mapping), then
   * acks; resolves once every device acked (or closed).
   */
  private async pushPrivacyToken (account: string, contact: Phone, byLid: boolean): Promise<void> {
    const issued = this.issuePrivacyToken(account, contact.phone)
    const self = this.phonesByNumber.get(account)
    const notification: BinaryNode = {
      tag: 'notification',
      attrs: { from: byLid ? contact.lid : contact.jid, ...(byLid ? {} : { sender_lid: contact.lid }), type: 'privacy_token', t: nowSeconds() },
      content: [{ tag: 'tokens', attrs: {}, content: [{ tag: 'token', attrs: { jid: self?.jid ?? '', t: String(issued.t), type: 'trusted_contact' }, content: issued.token }] }],
    }
    const ids = new Set(this.connectionsOf(account).map(() => randomMessageId()))
    if (ids.size === 0) return
    const acked = new Promise<void>((resolve) => {
      const waiting = new Set(ids)
      const stop = this.on('notification-acked', ({ id }) => {
        waiting.delete(id)
        if (waiting.size === 0) { stop(); clearTimeout(timer); resolve() }
      })
      // A device that closed meanwhile never acks; the message still goes to the others.
      const timer = setTimeout(() => { stop(); resolve() }, 5000)
    })
    const idList = [...ids]
    this.connectionsOf(account).forEach((connection, index) => {
      connection.send({ ...notification, attrs: { ...notification.attrs, id: idList[index]! } })
    })
    await acked
  }

  /** Whether the account has a chat with that number (it wrote first, or was written to unrefused). */
  hasChat (account: string, contact: string): boolean {
    return this.chatsOf(account.replace(/\D/g, '')).has(contact.replace(/\D/g, ''))
  }

  private chatsOf (digits: string): Set<string> {
    let chats = this.chats.get(digits)
    if (!chats) {
      chats = new Set()
      this.chats.set(digits, chats)
    }
    return chats
  }

  /** Sends a notification to each open device of the account (each its own id); returns the ids. */
  private pushNotification (number: string, notification: BinaryNode): string[] {
    return this.connectionsOf(number).map((connection) => {
      const id = randomMessageId()
      connection.send({ ...notification, attrs: { ...notification.attrs, id } })
      return id
    })
  }

  /** Open sockets now: all of them, or the logged-in ones of one phone. */
  connectionCount (number?: string): number {
    return this.connectionsOf(number).length
  }

  // ---- registration, pairing, login ------------------------------------------------------------

  handleClientPayload (connection: Connection, payload: proto.ClientPayload): void {
    const appVersion = payload.userAgent?.appVersion
    const version: WebVersion = [appVersion?.primary ?? 0, appVersion?.secondary ?? 0, appVersion?.tertiary ?? 0]
    if (this.minimumClientVersion && isOlder(version, this.minimumClientVersion)) {
      // WhatsApp refuses an outdated client before it registers or logs in; Baileys closes with 405.
      this.outdatedClientRefusals++
      this.emit('outdated-client', { version: versionText(version) })
      connection.send({ tag: 'failure', attrs: { reason: '405' } })
      return
    }
    const pairing = payload.devicePairingData
    if (pairing) {
      this.registrations++
      connection.registeringKeys = {
        registrationId: Buffer.from(pairing.eRegid!).readUInt32BE(0),
        identityKey: Buffer.from(pairing.eIdent!),
        signedPreKey: {
          keyId: Buffer.from(pairing.eSkeyId!).readUIntBE(0, 3),
          publicKey: Buffer.from(pairing.eSkeyVal!),
          signature: Buffer.from(pairing.eSkeySig!),
        },
      }
      connection.pairDeviceRefs = Array.from({ length: this.options.qrRefs ?? 6 }, () => `2@${randomBytes(24).toString('base64')}`)
      connection.send({
        tag: 'iq',
        attrs: { from: S_WHATSAPP_NET, type: 'set', id: randomMessageId(), xmlns: 'md' },
        content: [
          {
            tag: 'pair-device',
            attrs: {},
            content: connection.pairDeviceRefs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })),
          },
        ],
      })
      this.emit('registration', { noiseKey: connection.noiseKey!.toString('base64') })
      return
    }
    this.logins++
    const user = String(payload.username ?? '')
    const device = Number(payload.device ?? 0)
    const linked = this.linkedDevices.get(`${user}:${device}`)
    const accepted = !!linked && linked.noiseKey.equals(connection.noiseKey!) && !this.rejectedLoginPhones.has(user)
    this.emit('login', { phone: user, device, accepted })
    if (!linked || !accepted) {
      connection.send({ tag: 'failure', attrs: { reason: '401' } })
      return
    }
    // The same device logging in again: WhatsApp keeps the newer connection and tells the older
    // one it was replaced (Baileys closes it with 440 connectionReplaced).
    for (const older of this.connectionsOf(user)) {
      if (older.linkedDevice !== linked) continue
      older.replaced = true
      older.sendAndClose(CLOSE_NODES.replaced, REPLACED_GRACE_MS)
      this.replacedByPhone.set(user, (this.replacedByPhone.get(user) ?? 0) + 1)
      this.emit('replaced', { phone: user, device })
    }
    connection.linkedDevice = linked
    connection.send({
      tag: 'success',
      attrs: { t: nowSeconds(), lid: linked.lid, display_name: '', creation: nowSeconds(), props: '1', abprops: '1' },
    })
    connection.send({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: '0' } }] })
  }

  /** Plays the phone that scans the QR: pair-success, check the signed reply, then 515. */
  async scanQr (qrText: string, options: { phone: string }): Promise<void> {
    const [ref, noiseKeyBase64, identityKeyBase64, advSecretBase64] = qrText.slice(qrText.indexOf('#') + 1).split(',')
    const connection = [...this.connections].find(
      (candidate) => !candidate.closed && candidate.registeringKeys && candidate.noiseKey?.toString('base64') === noiseKeyBase64
    )
    if (!connection || !connection.pairDeviceRefs.includes(ref)) {
      throw new Error('no registering connection shows this QR code')
    }
    const phone = this.phoneFor(options.phone)
    const identityKey = Buffer.from(identityKeyBase64, 'base64')
    const deviceId = 1 + [...this.linkedDevices.values()].filter((device) => device.phone === phone).length
    const keyIndex = deviceId
    const deviceDetails = proto.ADVDeviceIdentity.encode({
      rawId: randomBytes(4).readUInt32BE(0),
      timestamp: Math.floor(Date.now() / 1000),
      keyIndex,
    }).finish()
    const accountSignature = Curve.sign(phone.identity.private, Buffer.concat([Buffer.from([6, 0]), deviceDetails, identityKey]))
    const signedIdentity = proto.ADVSignedDeviceIdentity.encode({
      details: deviceDetails,
      accountSignatureKey: phone.identity.public,
      accountSignature,
    }).finish()
    const identityWithHmac = proto.ADVSignedDeviceIdentityHMAC.encode({
      details: signedIdentity,
      hmac: hmacSign(signedIdentity, Buffer.from(advSecretBase64, 'base64')),
    }).finish()
    const jid = `${phone.phone}:${deviceId}@s.whatsapp.net`
    const lid = `${phone.lidUser}:${deviceId}@lid`
    const reply = await connection.query({
      tag: 'iq',
      attrs: { from: S_WHATSAPP_NET, type: 'set', id: randomMessageId(), t: nowSeconds() },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            { tag: 'device-identity', attrs: {}, content: identityWithHmac },
            { tag: 'platform', attrs: { name: 'smba' } },
            { tag: 'device', attrs: { jid, lid } },
          ],
        },
      ],
    })
    const signedReply = getBinaryNodeChild(getBinaryNodeChild(reply, 'pair-device-sign'), 'device-identity')
    if (!signedReply) throw new Error('Baileys did not answer pair-success with pair-device-sign')
    const account = proto.ADVSignedDeviceIdentity.decode(nodeBytes(signedReply.content))
    const deviceMessage = Buffer.concat([Buffer.from([6, 1]), account.details!, identityKey, phone.identity.public])
    if (!account.deviceSignature || !Curve.verify(identityKey, deviceMessage, account.deviceSignature)) {
      throw new Error('the device signature in pair-device-sign does not verify')
    }
    this.linkedDevices.set(`${phone.phone}:${deviceId}`, {
      phone,
      deviceId,
      jid,
      lid,
      noiseKey: connection.noiseKey!,
      keys: connection.registeringKeys!,
      initialHistorySyncSent: false,
    })
    this.emit('paired', { phone: phone.phone, jid })
    connection.send(CLOSE_NODES['restart-required'])
  }

  // ---- stanzas from Baileys --------------------------------------------------------------------

  async handleNode (connection: Connection, node: BinaryNode): Promise<void> {
    if (node.tag === 'iq') return this.handleIq(connection, node)
    if (node.tag === 'message') return this.handleMessage(connection, node)
    if (node.tag === 'ack' && node.attrs.class === 'notification') {
      this.emit('notification-acked', { phone: connection.linkedDevice?.phone.phone, id: node.attrs.id, type: node.attrs.type ?? '' })
    }
    // Receipts, acks, presence and the like from the client need no answer here.
  }

  private async handleIq (connection: Connection, node: BinaryNode): Promise<void> {
    const { type, xmlns } = node.attrs
    if (type === 'result' || type === 'error') {
      connection.takeReply(node)
      return
    }
    const firstChild = Array.isArray(node.content) ? node.content[0] : undefined
    if (xmlns === 'w:p') {
      if (this.answerKeepAlive) connection.send(resultIq(node))
      return
    }
    if (xmlns === 'encrypt' && firstChild?.tag === 'count') {
      connection.send(resultIq(node, [{ tag: 'count', attrs: { value: '50' } }]))
      return
    }
    if (xmlns === 'encrypt' && firstChild?.tag === 'digest') {
      connection.send(resultIq(node, [{ tag: 'digest', attrs: {} }]))
      const linked = connection.linkedDevice
      if (!linked) return
      this.emit('open', { phone: linked.phone.phone, device: linked.deviceId })
      // By now Baileys has read <ib><offline/> and awaits the history sync (AwaitingInitialSync).
      if (!linked.initialHistorySyncSent && this.options.initialHistorySync !== false) {
        await this.sendInitialHistorySync(connection, linked)
      }
      return
    }
    if (xmlns === 'w:sync:app:state') {
      connection.send(resultIq(node, [this.answerAppStateSync(connection, getBinaryNodeChild(node, 'sync')!)]))
      return
    }
    if (xmlns === 'encrypt' && firstChild?.tag === 'key') {
      connection.send(resultIq(node, [{ tag: 'list', attrs: {}, content: this.preKeyBundles(firstChild) }]))
      return
    }
    if (xmlns === 'usync') {
      connection.send(resultIq(node, [this.answerUsync(connection, getBinaryNodeChild(node, 'usync')!)]))
      return
    }
    if (xmlns === 'w:m' && firstChild?.tag === 'media_conn') {
      connection.send(
        resultIq(node, [
          {
            tag: 'media_conn',
            attrs: { auth: 'simulator-media-auth', ttl: '3600' },
            content: [{ tag: 'host', attrs: { hostname: this.mediaHost!.hostname, maxContentLengthBytes: '104857600' } }],
          },
        ])
      )
      return
    }
    if (xmlns === 'w:mex' && firstChild?.tag === 'query') {
      const answer = this.answerMexQuery(connection, firstChild.attrs.query_id)
      connection.send(resultIq(node, answer ? [{ tag: 'result', attrs: {}, content: Buffer.from(JSON.stringify(answer)) }] : undefined))
      return
    }
    if (xmlns === 'md' && firstChild?.tag === 'link_code_companion_reg') {
      const phone = jidDecode(firstChild.attrs.jid)?.user ?? ''
      this.pairingCodeRequests.push({ phone })
      this.emit('pairing-code', { phone })
      connection.send(
        resultIq(node, [
          {
            tag: 'link_code_companion_reg',
            attrs: {},
            content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(randomBytes(16).toString('hex')) }],
          },
        ])
      )
      return
    }
    if (xmlns === 'privacy' && type === 'set' && firstChild?.tag === 'tokens') {
      connection.send(resultIq(node, this.answerPrivacyTokens(connection, firstChild)))
      return
    }
    // Anything not modelled (abt props, blocklist, privacy settings, prekey upload, ...) gets an empty result.
    connection.send(resultIq(node))
  }

  /**
   * The GraphQL (w:mex) queries modelled: the account's reach-out timelock
   * (fetchAccountReachoutTimelock) and its new-chat message cap (fetchNewChatMessageCap). Baileys
   * reads `<result>` as JSON and takes `data[<xwa2 path>]`.
   */
  private answerMexQuery (connection: Connection, queryId: string | undefined): Record<string, unknown> | undefined {
    const account = connection.linkedDevice?.phone.phone
    if (!account) return undefined
    if (queryId === QueryIds.REACHOUT_TIMELOCK) {
      return { data: { xwa2_fetch_account_reachout_timelock: this.reachoutTimelockPayload(this.restriction(account)) } }
    }
    if (queryId === QueryIds.MESSAGE_CAPPING_INFO) {
      return { data: { xwa2_message_capping_info: this.newChatMessageCap(account) } }
    }
    return undefined
  }

  /**
   * Every requested collection, empty: no patches, no snapshot, no has_more_patches. Baileys'
   * resyncAppState loops until each requested collection is named in the answer, so an iq without
   * them would make it ask again and again.
   */
  private answerAppStateSync (connection: Connection, sync: BinaryNode): BinaryNode {
    const requested = getBinaryNodeChildren(sync, 'collection')
    const linked = connection.linkedDevice
    if (linked) {
      this.emit('app-state-sync', {
        phone: linked.phone.phone,
        device: linked.deviceId,
        collections: requested.map((collection) => collection.attrs.name),
      })
    }
    return {
      tag: 'sync',
      attrs: {},
      content: requested.map((collection) => ({
        tag: 'collection',
        attrs: { name: collection.attrs.name, version: collection.attrs.version ?? '0' },
      })),
    }
  }

  private preKeyBundles (keyNode: BinaryNode): BinaryNode[] {
    const bundles: BinaryNode[] = []
    for (const user of getBinaryNodeChildren(keyNode, 'user')) {
      const phone = this.phoneOfJid(user.attrs.jid)
      // Only primary phones (device 0) are simulated as message recipients.
      if (phone && !jidDecode(user.attrs.jid)?.device) bundles.push(phone.preKeyBundle(user.attrs.jid))
    }
    return bundles
  }

  private answerUsync (connection: Connection, usync: BinaryNode): BinaryNode {
    const protocols = new Set(
      (getBinaryNodeChild(usync, 'query')?.content as BinaryNode[] | undefined)?.map((protocol) => protocol.tag) ?? []
    )
    const users = getBinaryNodeChildren(getBinaryNodeChild(usync, 'list'), 'user')
    const answers = users.map((user): BinaryNode => {
      const contactNumber = nodeText(getBinaryNodeChild(user, 'contact')?.content)
      const phone = contactNumber ? this.phonesByNumber.get(contactNumber.replace(/\D/g, '')) : this.phoneOfJid(user.attrs.jid)
      const jid = phone?.jid ?? user.attrs.jid ?? `${contactNumber.replace(/\D/g, '')}@s.whatsapp.net`
      const content: BinaryNode[] = []
      if (protocols.has('contact')) content.push({ tag: 'contact', attrs: { type: phone ? 'in' : 'out' } })
      if (protocols.has('devices')) {
        const devices: BinaryNode[] = phone ? [{ tag: 'device', attrs: { id: '0' } }] : []
        // Our own number: the asking device too (excluded by Baileys); other linked devices are not simulated.
        const own = connection.linkedDevice
        if (phone && own && own.phone === phone) {
          devices.push({ tag: 'device', attrs: { id: String(own.deviceId), 'key-index': String(own.deviceId) } })
        }
        content.push({ tag: 'devices', attrs: {}, content: [{ tag: 'device-list', attrs: {}, content: devices }] })
      }
      if (protocols.has('lid') && phone) content.push({ tag: 'lid', attrs: { val: phone.lid } })
      return { tag: 'user', attrs: { jid }, content }
    })
    return {
      tag: 'usync',
      attrs: { ...usync.attrs },
      content: [{ tag: 'list', attrs: {}, content: answers }],
    }
  }

  private async handleMessage (connection: Connection, node: BinaryNode): Promise<void> {
    const sender = connection.linkedDevice
    const messageId = node.attrs.id
    if (!sender) return
    const envelopes: Array<{ to: string; enc: BinaryNode }> = []
    for (const to of getBinaryNodeChildren(getBinaryNodeChild(node, 'participants'), 'to')) {
      for (const enc of getBinaryNodeChildren(to, 'enc')) envelopes.push({ to: to.attrs.jid, enc })
    }
    for (const enc of getBinaryNodeChildren(node, 'enc')) envelopes.push({ to: node.attrs.to, enc })
    const recipient = this.phoneOfJid(node.attrs.to)
    const recipientNumber = recipient?.phone ?? jidDecode(node.attrs.to)?.user ?? node.attrs.to
    const account = sender.phone.phone
    if (recipientNumber !== account) {
      const restricted = this.restriction(account) !== undefined
      if (restricted && !this.carriesPrivacyToken(account, recipientNumber, node)) {
        // Reach-out timelock: a message without the recipient's valid privacy token is a new
        // chat, refused with a nack carrying error 463; nothing is delivered. Baileys emits
        // messages.update status ERROR for it.
        connection.send({ tag: 'ack', attrs: { class: 'message', id: messageId, from: node.attrs.to, t: nowSeconds(), error: '463' } })
        this.refusedMessages++
        this.emit('message-refused', { phone: account, to: recipientNumber, messageId })
        return
      }
      if (restricted) this.emit('token-accepted', { phone: account, to: recipientNumber, messageId })
      // Written to, the contact has issued no token yet: only its own message (pushPrivacyToken)
      // or the phone's history gives the account one.
      this.chatsOf(account).add(recipientNumber)
    }
    connection.send({ tag: 'ack', attrs: { class: 'message', id: messageId, from: node.attrs.to, t: nowSeconds() } })
    if (recipient) this.sentMessages.set(messageId, { connection, recipient })
    for (const { to, enc } of envelopes) {
      const phone = this.phoneOfJid(to)
      if (!phone || jidDecode(to)?.device) continue
      const senderAddress = { user: `${sender.phone.phone}`, device: sender.deviceId, jid: sender.jid }
      const received = await phone.receive(senderAddress, messageId, enc.attrs.type, nodeBytes(enc.content), this.mediaHost!)
      this.emit('message', { phone: phone.phone, message: received })
    }
  }

  // ---- the account's own phone acting ---------------------------------------------------------

  /**
   * What WhatsApp's phone does right after linking: a peer message from the account's primary
   * device (device 0, so Baileys sees it as fromMe, which it requires of history sync
   * notifications) carrying the INITIAL_BOOTSTRAP history sync inline. Its conversations are the
   * phone's chats that hold a privacy token (issuePrivacyToken before the link), without messages.
   * Baileys then leaves AwaitingInitialSync, syncs app state
   * (answered empty) and flushes the events it buffered.
   */
  private async sendInitialHistorySync (connection: Connection, device: LinkedDevice): Promise<void> {
    const syncType = proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP
    // The phone's chats whose contacts issued their token to the account: Baileys keeps each
    // conversation's tcToken (storeTcTokensFromHistorySync) under the LID, learning the LID's number
    // from pnJid first.
    const conversations: proto.IConversation[] = []
    for (const [key, issued] of this.privacyTokens) {
      const [account, contactNumber] = key.split('>')
      const contact = this.phonesByNumber.get(contactNumber!)
      if (account !== device.phone.phone || !contact) continue
      conversations.push({ id: contact.lid, pnJid: contact.jid, tcToken: issued.token, tcTokenTimestamp: issued.t })
    }
    const history = proto.HistorySync.encode({ syncType, conversations, chunkOrder: 1, progress: 100 }).finish()
    const message: proto.IMessage = {
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: {
          syncType: proto.Message.HistorySyncType.INITIAL_BOOTSTRAP,
          chunkOrder: 1,
          progress: 100,
          initialHistBootstrapInlinePayload: deflateSync(history),
        },
      },
    }
    const { type, ciphertext } = await device.phone.encryptFor(
      { user: device.phone.phone, device: device.deviceId, keys: device.keys },
      message
    )
    const messageId = randomMessageId()
    connection.send({
      tag: 'message',
      attrs: { from: device.phone.jid, id: messageId, t: nowSeconds(), type: 'text', category: 'peer' },
      content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
    })
    // A socket that closed meanwhile did not get it: the next login of the device gets it instead.
    if (connection.closed) return
    device.initialHistorySyncSent = true
    this.initialHistorySyncs++
    this.emit('history-sync', { phone: device.phone.phone, device: device.deviceId, messageId })
  }

  // ---- contacts acting ---------------------------------------------------------------------------

  /**
   * The contact's phone sends a delivery or read receipt for a message it received from a linked
   * device. It goes out after receiptDelayMs, as from a real phone: Baileys merges a receipt that
   * arrives within ~100 ms of its own send into that send's messages.upsert instead of emitting
   * messages.update.
   */
  async sendReceipt (number: string, messageId: string, type: 'delivered' | 'read'): Promise<void> {
    const sent = this.sentMessages.get(messageId)
    const phone = this.phoneFor(number)
    if (!sent || sent.recipient !== phone) throw new Error(`${number} did not receive message ${messageId}`)
    await new Promise((resolve) => setTimeout(resolve, this.options.receiptDelayMs ?? 250))
    sent.connection.send({
      tag: 'receipt',
      attrs: { from: phone.jid, id: messageId, t: nowSeconds(), ...(type === 'read' ? { type: 'read' } : {}) },
    })
  }

  /**
   * A contact writes a text to every open linked device of a phone; Baileys must decrypt it. The
   * stanza names the sender by phone number or by LID (options.addressing), optionally with the
   * other address as sender_pn / sender_lid. The chat then exists for the account.
   */
  async sendText (fromContact: string, toLinkedPhone: string, text: string, options: InboundTextOptions = {}): Promise<string> {
    const contact = this.phoneFor(fromContact)
    const connections = this.connectionsOf(toLinkedPhone)
    if (connections.length === 0) throw new Error(`no open linked device for ${toLinkedPhone}`)
    const byLid = options.addressing === 'lid'
    const addressAttributes: Record<string, string> = { from: byLid ? contact.lid : contact.jid }
    if (options.alternateAddress) {
      if (byLid) addressAttributes.sender_pn = contact.jid
      else addressAttributes.sender_lid = contact.lid
    }
    const account = connections[0].linkedDevice!.phone.phone
    this.chatsOf(account).add(contact.phone)
    // The contact's client issues its token as it writes; Baileys has stored it before the text.
    await this.pushPrivacyToken(account, contact, byLid)
    const messageId = randomMessageId()
    for (const connection of connections) {
      const device = connection.linkedDevice!
      const { type, ciphertext } = await contact.encryptFor(
        { user: device.phone.phone, device: device.deviceId, keys: device.keys },
        { conversation: text }
      )
      connection.send({
        tag: 'message',
        attrs: { ...addressAttributes, id: messageId, t: nowSeconds(), type: 'text', notify: `Contact ${contact.phone}` },
        content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
      })
      this.emit('inbound', { phone: device.phone.phone, from: contact.phone, messageId, encType: type, addressing: byLid ? 'lid' : 'pn' })
    }
    return messageId
  }
}
