import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { rootCertificates } from 'node:tls'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import makeWASocket, {
  Browsers,
  BufferJSON,
  DisconnectReason,
  initAuthCreds,
  makeCacheableSignalKeyStore,
  proto,
  type AnyMessageContent,
  type AuthenticationCreds,
  type SignalKeyStore,
  type WAMessageContent,
  type WAMessageKey,
  type WASocket
} from '@whiskeysockets/baileys'
import { hasLinkedCredentials, openSessionAuthFiles, type AuthStateCodec } from '../src/auth-state-files.js'
import { routeLibsignalConsole } from '../src/libsignal-console.js'
import { openSessionAuthState } from '../src/state/session-auth-state.js'
import { StaleLeaseError, type Lease, type StateStore } from '../src/state/state-store.js'

// The only module that speaks to the WhatsApp library. Everything above it sees connections,
// close kinds and plain message events, so the session policy can be read and tested without it.

export type CloseKind =
  | 'restart-required'
  | 'logged-out'
  | 'replaced'
  | 'qr-timeout'
  | 'forbidden'
  | 'multidevice-mismatch'
  | 'connection-lost'

export interface ConnectionClose {
  kind: CloseKind
  statusCode: number | undefined
  message: string
}

export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'played' | 'failed'

export interface ConnectionHandlers {
  qr?: (qr: string) => void
  paired?: () => void
  open?: (user: { id: string, name: string | null }) => void
  close?: (close: ConnectionClose) => void
  messageStatus?: (update: { messageId: string, remoteJid: string, status: MessageStatus }) => void
  messageReceived?: (message: { messageId: string, from: string, pushName: string | null, text: string | null, timestamp: number }) => void
  // A credential or key write was refused: another instance holds the session's lease now.
  leaseRefused?: () => void
}

export type MediaKind = 'image' | 'video' | 'audio' | 'document'

export interface OutgoingMedia {
  kind: MediaKind
  bytes: Buffer
  mimetype: string
  fileName?: string
  caption?: string
}

export interface WhatsAppConnection {
  requestPairingCode: (phoneNumber: string) => Promise<string>
  sendText: (jid: string, text: string) => Promise<{ messageId: string }>
  sendMedia: (jid: string, media: OutgoingMedia) => Promise<{ messageId: string }>
  // Which of these numbers (digits only) are on WhatsApp, with their jids.
  lookup: (phoneNumbers: string[]) => Promise<Map<string, string>>
  // Tells WhatsApp to unlink this device, then closes. No events are reported afterwards.
  logout: () => Promise<void>
  // Closes without logging out, after the last credential write. No events are reported afterwards.
  close: () => Promise<void>
  credentialWrites: () => number
}

export interface TransportOptions {
  webSocketUrl?: string
  extraCaFile?: string
  keepAliveMs: number
  connectTimeoutMs: number
  queryTimeoutMs: number
  qrTimeoutMs?: number
  logger: Logger
  // With REDIS_URL: connections opened with a lease keep their credentials here, fenced by it.
  stateStore?: StateStore
}

export interface Transport {
  // With a lease, the credentials are the state store's (fenced by the lease), not the folder's.
  connect: (sessionId: string, directory: string, handlers: ConnectionHandlers, lease?: Lease) => Promise<WhatsAppConnection>
  // Whether the folder holds the credentials of a linked device, which log in without a scan.
  hasLinkedCredentials: (directory: string) => Promise<boolean>
  // Releases what connections share (the media upload agent); the registry closes connections first.
  close: () => void
}

declare module 'fastify' {
  interface FastifyInstance {
    transport: Transport
  }
}

// 408 means both "nobody scanned the QR in time" and "connection lost": only the message tells.
export function classifyClose (statusCode: number | undefined, message: string): CloseKind {
  switch (statusCode) {
    case DisconnectReason.restartRequired: return 'restart-required'
    case DisconnectReason.loggedOut: return 'logged-out'
    case DisconnectReason.connectionReplaced: return 'replaced'
    case DisconnectReason.forbidden: return 'forbidden'
    case DisconnectReason.multideviceMismatch: return 'multidevice-mismatch'
    case DisconnectReason.timedOut:
      return message.includes('QR refs attempts ended') ? 'qr-timeout' : 'connection-lost'
    default: return 'connection-lost'
  }
}

const messageStatuses: Record<number, MessageStatus> = {
  [proto.WebMessageInfo.Status.ERROR]: 'failed',
  [proto.WebMessageInfo.Status.PENDING]: 'pending',
  [proto.WebMessageInfo.Status.SERVER_ACK]: 'sent',
  [proto.WebMessageInfo.Status.DELIVERY_ACK]: 'delivered',
  [proto.WebMessageInfo.Status.READ]: 'read',
  [proto.WebMessageInfo.Status.PLAYED]: 'played'
}

function messageStatusOf (status: number | null | undefined): MessageStatus | undefined {
  return status == null ? undefined : messageStatuses[status]
}

const whatsappCodec: AuthStateCodec<AuthenticationCreds> = {
  serialize: (value) => JSON.stringify(value, BufferJSON.replacer),
  deserialize: (text) => JSON.parse(text, BufferJSON.reviver) as unknown,
  createCredentials: initAuthCreds,
  reviveKey: (category, value) => category === 'app-state-sync-key'
    ? proto.Message.AppStateSyncKeyData.fromObject(value as Record<string, unknown>)
    : value,
  // `account` is written when the phone confirms the link. `me` alone is not enough: a
  // pairing-code request writes it before anyone types the code, and logging in with it gets 401.
  isLinked: (credentials) => credentials.account != null && credentials.me != null,
  keptOnDisk: ['pre-key']
}

// Baileys uploads media with node:https through `fetchAgent`; an extra CA (a corporate TLS proxy,
// or a local WhatsApp simulator) is trusted on top of the usual roots, not instead of them.
function mediaAgent (extraCaFile: string | undefined): Agent | undefined {
  if (extraCaFile === undefined) return undefined
  return new Agent({ ca: [...rootCertificates, readFileSync(extraCaFile, 'utf8')], keepAlive: true })
}

function messageText (message: WAMessageContent | null | undefined): string | null {
  return message?.conversation ?? message?.extendedTextMessage?.text ?? message?.imageMessage?.caption ?? message?.videoMessage?.caption ?? message?.documentMessage?.caption ?? null
}

// WhatsApp's message shape for each kind; audio carries no caption.
function mediaContent (media: OutgoingMedia): AnyMessageContent {
  const caption = media.caption === undefined ? {} : { caption: media.caption }
  switch (media.kind) {
    case 'image': return { image: media.bytes, mimetype: media.mimetype, ...caption }
    case 'video': return { video: media.bytes, mimetype: media.mimetype, ...caption }
    case 'audio': return { audio: media.bytes, mimetype: media.mimetype }
    case 'document': return { document: media.bytes, mimetype: media.mimetype, fileName: media.fileName ?? 'file', ...caption }
  }
}

// Resending a message the recipient could not decrypt needs its content; recent sends are kept.
// Retry requests come within seconds of a send, so a few dozen cover a burst; the bound is per
// session, and hundreds of sessions each keeping hundreds of messages would add up.
const recentMessagesKept = 64

export function createTransport (options: TransportOptions): Transport {
  const fetchAgent = mediaAgent(options.extraCaFile)
  function storeFor (lease: Lease): StateStore {
    if (options.stateStore === undefined) throw new Error(`session ${lease.sessionId} was opened with a lease, but the transport has no state store`)
    return options.stateStore
  }

  return {
    async connect (sessionId, directory, handlers, lease) {
      const logger = options.logger.child({ sessionId })
      const authFiles = lease === undefined
        ? await openSessionAuthFiles(directory, whatsappCodec)
        : await openSessionAuthState(storeFor(lease), lease, whatsappCodec)
      // Files are held in memory already; keys in the shared store are read over the network,
      // so the hot ones are kept in memory in front of it.
      const keys = lease === undefined ? authFiles.keys as SignalKeyStore : makeCacheableSignalKeyStore(authFiles.keys as SignalKeyStore, logger)
      function refusedWrite (error: unknown): void {
        if (error instanceof StaleLeaseError) handlers.leaseRefused?.()
      }
      const recentMessages = new Map<string, WAMessageContent>()
      let reporting = true

      const socket: WASocket = makeWASocket({
        // The key files are already held in memory: Baileys' cacheable key store would keep a
        // second copy per session (and a cleanup timer each), for no gain.
        auth: { creds: authFiles.credentials, keys: {
          get: keys.get.bind(keys),
          set: async (data) => {
            try {
              await keys.set(data)
            } catch (error) {
              refusedWrite(error)
              throw error
            }
          },
          ...(keys.clear === undefined ? {} : { clear: keys.clear.bind(keys) })
        } },
        logger,
        browser: Browsers.ubuntu('Chrome'),
        ...(options.webSocketUrl === undefined ? {} : { waWebSocketUrl: options.webSocketUrl }),
        ...(fetchAgent === undefined ? {} : { fetchAgent }),
        connectTimeoutMs: options.connectTimeoutMs,
        keepAliveIntervalMs: options.keepAliveMs,
        defaultQueryTimeoutMs: options.queryTimeoutMs,
        ...(options.qrTimeoutMs === undefined ? {} : { qrTimeout: options.qrTimeoutMs }),
        // An OTP sender needs no chat history and must not look online. Without history the
        // phone's chats are never downloaded, and Baileys does not hold events back for up to
        // 20 s after the first login waiting for them; the LIDs of recipients, which Baileys
        // warns history would have provided, come from WhatsApp's usync lookup at send time.
        markOnlineOnConnect: false,
        syncFullHistory: false,
        shouldSyncHistoryMessage: () => false,
        generateHighQualityLinkPreview: false,
        getMessage: async (key: WAMessageKey) => (key.id == null ? undefined : recentMessages.get(key.id))
      })

      socket.ev.on('creds.update', () => {
        authFiles.saveCredentials().catch((error: unknown) => {
          refusedWrite(error)
          logger.error({ err: error }, 'saving credentials failed')
        })
      })

      socket.ev.on('connection.update', (update) => {
        if (!reporting) return
        if (update.qr !== undefined) handlers.qr?.(update.qr)
        if (update.isNewLogin === true) handlers.paired?.()
        if (update.connection === 'open') {
          handlers.open?.({ id: socket.user?.id ?? '', name: socket.user?.name ?? null })
        }
        if (update.connection === 'close') {
          reporting = false
          const error = update.lastDisconnect?.error as { output?: { statusCode?: number }, message?: string } | undefined
          const statusCode = error?.output?.statusCode
          const message = error?.message ?? 'connection closed'
          // The last credentials must be on disk before anyone reconnects or deletes the folder.
          authFiles.close().finally(() => {
            handlers.close?.({ kind: classifyClose(statusCode, message), statusCode, message })
          })
        }
      })

      socket.ev.on('messages.update', (updates) => {
        if (!reporting) return
        for (const { key, update } of updates) {
          const status = messageStatusOf(update.status)
          if (status === undefined || key.id == null || key.remoteJid == null || key.fromMe !== true) continue
          handlers.messageStatus?.({ messageId: key.id, remoteJid: key.remoteJid, status })
        }
      })

      socket.ev.on('messages.upsert', ({ messages, type }) => {
        if (!reporting) return
        for (const message of messages) {
          if (message.key.id == null || message.key.remoteJid == null) continue
          if (message.key.fromMe === true) {
            // Baileys holds back the upsert of a message just sent for about 100 ms and folds a
            // receipt that arrives meanwhile into it, instead of emitting a messages.update.
            const status = messageStatusOf(message.status)
            if (status !== undefined) handlers.messageStatus?.({ messageId: message.key.id, remoteJid: message.key.remoteJid, status })
            continue
          }
          if (type !== 'notify') continue
          handlers.messageReceived?.({
            messageId: message.key.id,
            from: message.key.remoteJid,
            pushName: message.pushName ?? null,
            text: messageText(message.message),
            timestamp: Number(message.messageTimestamp ?? Math.floor(Date.now() / 1000))
          })
        }
      })

      async function send (jid: string, content: AnyMessageContent): Promise<{ messageId: string }> {
        const sent = await socket.sendMessage(jid, content)
        const messageId = sent?.key.id
        if (messageId == null) throw new Error('WhatsApp did not return a message id')
        if (sent?.message != null) {
          recentMessages.set(messageId, sent.message)
          if (recentMessages.size > recentMessagesKept) recentMessages.delete(recentMessages.keys().next().value as string)
        }
        return { messageId }
      }

      async function stop (): Promise<void> {
        reporting = false
        await socket.end(undefined)
        // end() drops the socket's 'close' listeners, so queries still waiting for an answer would
        // hold their timers (up to WA_QUERY_TIMEOUT_MS) and delay shutdown; they still listen for
        // 'error', which rejects them now.
        if (socket.ws.listenerCount('error') > 0) socket.ws.emit('error', new Error('connection closed by the service'))
        await authFiles.close()
      }

      return {
        requestPairingCode: async (phoneNumber) => await socket.requestPairingCode(phoneNumber),
        sendText: async (jid, text) => await send(jid, { text }),
        sendMedia: async (jid, media) => await send(jid, mediaContent(media)),
        async lookup (phoneNumbers) {
          const results = await socket.onWhatsApp(...phoneNumbers) ?? []
          const found = new Map<string, string>()
          for (const result of results) {
            if (result.exists) found.set(result.jid.split('@')[0].split(':')[0], result.jid)
          }
          return found
        },
        async logout () {
          reporting = false
          try {
            await socket.logout()
          } catch (error) {
            logger.warn({ err: error }, 'logout request failed; closing anyway')
          }
          await stop()
        },
        close: stop,
        credentialWrites: authFiles.writeCount
      }
    },
    hasLinkedCredentials: async (directory) => await hasLinkedCredentials(directory, whatsappCodec),
    close () {
      fetchAgent?.destroy()
    }
  }
}

async function transportPlugin (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const releaseLibsignalConsole = routeLibsignalConsole(fastify.whatsappLogger)
  fastify.decorate('transport', createTransport({
    ...(config.whatsappWebSocketUrl === undefined ? {} : { webSocketUrl: config.whatsappWebSocketUrl }),
    ...(config.whatsappExtraCaFile === undefined ? {} : { extraCaFile: config.whatsappExtraCaFile }),
    ...(config.whatsappQrTimeoutMs === undefined ? {} : { qrTimeoutMs: config.whatsappQrTimeoutMs }),
    keepAliveMs: config.whatsappKeepAliveMs,
    connectTimeoutMs: config.whatsappConnectTimeoutMs,
    queryTimeoutMs: config.whatsappQueryTimeoutMs,
    logger: fastify.whatsappLogger,
    ...(config.redisUrl === undefined ? {} : { stateStore: fastify.stateStore })
  }))
  fastify.addHook('onClose', async () => {
    fastify.transport.close()
    releaseLibsignalConsole()
  })
}

export default fp(transportPlugin, { name: 'transport', fastify: '5.x', dependencies: ['state-store'] })

