import NodeCache from '@cacheable/node-cache'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import makeWASocket, {
  Browsers,
  BufferJSON,
  DEFAULT_CACHE_TTLS,
  DEFAULT_CONNECTION_CONFIG,
  DisconnectReason,
  generateMessageIDV2,
  initAuthCreds,
  isLidUser,
  jidNormalizedUser,
  makeCacheableSignalKeyStore,
  proto,
  type AnyMessageContent,
  type AuthenticationCreds,
  type BinaryNode,
  type CacheStore,
  type SignalKeyStore,
  type WAMessageKey,
  type WASocket
} from '@whiskeysockets/baileys'
import type { VersionSource, WhatsAppVersion } from '../src/whatsapp-version.js'
import { extraCaAgent } from '../src/extra-ca-agent.js'
import { hasLinkedCredentials, openSessionAuthFiles, type AuthStateCodec } from '../src/auth-state-files.js'
import type { CloseKind, MessageStatus } from '../src/events.js'
import { routeLibsignalConsole } from '../src/libsignal-console.js'
import { createSentMessageStore, type SentMessageStore } from '../src/sent-message-store.js'
import { openSessionAuthState } from '../src/state/session-auth-state.js'
import { StaleLeaseError, type Lease, type StateStore } from '../src/state/state-store.js'
import { SendRefusedError, type Transport } from '../src/whatsapp-connection.js'
import { capRestriction, mediaContent, messageText } from '../src/whatsapp-message-shapes.js'

// The only module that speaks to the WhatsApp library. Everything above it sees connections
// (src/whatsapp-connection.ts), close kinds and plain message events, so the session policy can be
// read and tested without it.

export interface TransportOptions {
  webSocketUrl?: string
  extraCaFile?: string
  keepAliveMs: number
  connectTimeoutMs: number
  queryTimeoutMs: number
  qrTimeoutMs?: number
  // Longest a send waits for WhatsApp's server to take the message (its ack) or refuse it.
  sendAckTimeoutMs: number
  // The WhatsApp Web version each new socket announces, asked again after a 405 (outdated client).
  version?: Pick<VersionSource, 'settled' | 'refresh'>
  logger: Logger
  // Where sent contents are kept for resend requests; without it, none can be answered.
  sentMessages?: SentMessageStore
  // With REDIS_URL: connections opened with a lease keep their credentials here, fenced by it.
  stateStore?: StateStore
}

export const bundledWhatsAppVersion = [...DEFAULT_CONNECTION_CONFIG.version] as WhatsAppVersion

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
  keptOnDisk: ['pre-key'],
  keptPerKey: ['session', 'identity-key', 'device-list', 'lid-mapping', 'tctoken']
}

const phoneOfJid = (jid: string): string => jidNormalizedUser(jid).split('@')[0]

export function createTransport (options: TransportOptions): Transport {
  // Baileys uploads media with node:https through `fetchAgent`.
  const fetchAgent = extraCaAgent(options.extraCaFile)
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
      const version = await options.version?.settled()
      // Key files keep the keys in use in memory; keys in the shared store are read over the network: each socket
      // caches the hot ones, and closes the cache as it ends (Baileys' own would keep its timer forever).
      const storedKeys = authFiles.keys as SignalKeyStore
      const keyCache = lease === undefined ? undefined : new NodeCache({ stdTTL: DEFAULT_CACHE_TTLS.SIGNAL_STORE, useClones: false })
      const keys = keyCache === undefined ? storedKeys : makeCacheableSignalKeyStore(storedKeys, logger, keyCache as CacheStore)
      function refusedWrite (error: unknown): void {
        if (error instanceof StaleLeaseError) handlers.leaseRefused?.()
      }
      let reporting = true

      const socket: WASocket = makeWASocket({
        auth: {
          creds: authFiles.credentials,
          keys: {
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
          }
        },
        logger,
        browser: Browsers.ubuntu('Chrome'),
        ...(version === undefined ? {} : { version }),
        ...(options.webSocketUrl === undefined ? {} : { waWebSocketUrl: options.webSocketUrl }),
        ...(fetchAgent === undefined ? {} : { fetchAgent }),
        connectTimeoutMs: options.connectTimeoutMs,
        keepAliveIntervalMs: options.keepAliveMs,
        defaultQueryTimeoutMs: options.queryTimeoutMs,
        ...(options.qrTimeoutMs === undefined ? {} : { qrTimeout: options.qrTimeoutMs }),
        // An OTP sender needs no chat history and must not look online. Only the initial
        // bootstrap is taken, once per link: it carries the privacy tokens (tctokens) and LID
        // mappings of the chats the phone already has, without which WhatsApp refuses messages
        // to those chats with 463 while the account is restricted (docs/architecture.md,
        // "Deliverability decisions"). Baileys asks this function about RECENT to decide whether
        // to hold events back for up to 20 s after the first login: it does not.
        markOnlineOnConnect: false,
        syncFullHistory: false,
        shouldSyncHistoryMessage: (notification) => notification.syncType === proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
        generateHighQualityLinkPreview: false,
        // Resending a message the recipient could not decrypt needs its content.
        getMessage: async (key: WAMessageKey) => {
          if (key.id == null || options.sentMessages === undefined) return undefined
          const encoded = await options.sentMessages.recall(sessionId, key.id)
          return encoded === undefined ? undefined : proto.Message.decode(Buffer.from(encoded, 'base64'))
        }
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
        if (update.reachoutTimeLock !== undefined) {
          const { isActive, timeEnforcementEnds, enforcementType } = update.reachoutTimeLock
          handlers.restriction?.({ source: 'timelock', active: isActive === true, until: isActive === true ? timeEnforcementEnds ?? null : null, reason: String(enforcementType ?? 'DEFAULT') })
        }
        if (update.connection === 'open') {
          handlers.open?.({ id: socket.user?.id ?? '', name: socket.user?.name ?? null })
          // WhatsApp pushes a restriction when it starts, not to a device that connects later:
          // ask once per connection. Either query may go unanswered; that says nothing.
          socket.fetchAccountReachoutTimelock().catch((error: unknown) => logger.debug({ err: error }, 'reach-out timelock query not answered'))
          socket.fetchNewChatMessageCap()
            .then((info) => { if (reporting && info != null) handlers.restriction?.(capRestriction(info)) })
            .catch((error: unknown) => logger.debug({ err: error }, 'new-chat cap query not answered'))
        }
        if (update.connection === 'close') {
          reporting = false
          for (const [messageId, waiting] of waitingForAck) settleAck(messageId, waiting, new Error('connection closed before WhatsApp took the message'))
          const error = update.lastDisconnect?.error as { output?: { statusCode?: number }, message?: string } | undefined
          const statusCode = error?.output?.statusCode
          const message = error?.message ?? 'connection closed'
          // WhatsApp refuses an outdated client with 405: the next socket asks with a fresh version.
          const freshVersion = statusCode === 405 && options.version !== undefined ? options.version.refresh() : Promise.resolve()
          keyCache?.close()
          // The last credentials must be on disk before anyone reconnects or deletes the folder.
          Promise.allSettled([authFiles.close(), freshVersion]).finally(() => {
            handlers.close?.({ kind: classifyClose(statusCode, message), statusCode, message })
          })
        }
      })

      socket.ev.on('message-capping.update', (info) => {
        if (reporting) handlers.restriction?.(capRestriction(info))
      })

      // Sends waiting for the server's answer, by message id. WhatsApp answers every message
      // stanza with an <ack>; one with an `error` attribute is a refusal. The ack is read off the
      // socket directly: Baileys reports a refusal as a status ERROR only (in messages.update, or
      // folded into the held-back upsert of the send, see test/sim/README.md) and a plain ack not
      // at all, and with a fast server either can come before sendMessage resolves.
      const waitingForAck = new Map<string, { settle: (error?: Error) => void, timer: NodeJS.Timeout }>()
      function settleAck (messageId: string, waiting: { settle: (error?: Error) => void, timer: NodeJS.Timeout }, error?: Error): void {
        waitingForAck.delete(messageId)
        clearTimeout(waiting.timer)
        waiting.settle(error)
      }
      function expectAck (messageId: string): Promise<void> {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            waitingForAck.delete(messageId)
            reject(new SendRefusedError('timeout'))
          }, options.sendAckTimeoutMs)
          waitingForAck.set(messageId, { timer, settle: (error) => { if (error === undefined) resolve(); else reject(error) } })
        })
      }
      socket.ws.on('CB:ack,class:message', (node: BinaryNode) => {
        const waiting = waitingForAck.get(node.attrs.id)
        if (waiting === undefined) return
        const errorCode = node.attrs.error
        settleAck(node.attrs.id, waiting, errorCode === undefined ? undefined : new SendRefusedError(errorCode))
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
          const from = message.key.remoteJid
          const alternate = message.key.remoteJidAlt
          void (async () => {
            let phone: string | null = null
            if (!isLidUser(from)) phone = phoneOfJid(from)
            else if (alternate != null && !isLidUser(alternate)) phone = phoneOfJid(alternate)
            else {
              const mapped = await socket.signalRepository.lidMapping.getPNForLID(from).catch(() => null)
              phone = mapped == null ? null : phoneOfJid(mapped)
            }
            return phone
          })().then((phone) => {
            if (!reporting || message.key.id == null) return
            handlers.messageReceived?.({
              messageId: message.key.id,
              from,
              phone,
              pushName: message.pushName ?? null,
              text: messageText(message.message),
              timestamp: Number(message.messageTimestamp ?? Math.floor(Date.now() / 1000))
            })
          }).catch((error: unknown) => logger.error({ err: error }, 'reporting a received message failed'))
        }
      })

      // Sent means WhatsApp's server took it: the ack is awaited (bounded). A 463 refusal asks
      // for the timelock's end, so the caller can say when to try again.
      async function sendContent (jid: string, content: AnyMessageContent): Promise<{ messageId: string }> {
        const messageId = generateMessageIDV2(socket.user?.id)
        const acknowledged = expectAck(messageId)
        acknowledged.catch(() => {})
        let sent
        try {
          sent = await socket.sendMessage(jid, content, { messageId })
        } catch (error) {
          const waiting = waitingForAck.get(messageId)
          if (waiting !== undefined) settleAck(messageId, waiting, error as Error)
          throw error
        }
        if (sent?.message != null && options.sentMessages !== undefined) {
          const encoded = Buffer.from(proto.Message.encode(sent.message).finish()).toString('base64')
          // The message is out already: failing to keep its content must not fail the send.
          await options.sentMessages.remember(sessionId, messageId, encoded).catch((error: unknown) => {
            logger.warn({ err: error, messageId }, 'sent message content not kept; a resend request for it cannot be answered')
          })
        }
        try {
          await acknowledged
        } catch (error) {
          if (error instanceof SendRefusedError && error.restricted) {
            const timelock = await socket.fetchAccountReachoutTimelock().catch(() => undefined)
            const until = timelock?.isActive === true ? timelock.timeEnforcementEnds ?? null : null
            throw new SendRefusedError(error.errorCode, until)
          }
          throw error
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
        keyCache?.close()
        await authFiles.close()
      }

      return {
        requestPairingCode: async (phoneNumber) => await socket.requestPairingCode(phoneNumber),
        sendText: async (jid, text) => await sendContent(jid, { text }),
        sendMedia: async (jid, media) => await sendContent(jid, mediaContent(media)),
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
    sendAckTimeoutMs: config.whatsappSendAckTimeoutMs,
    version: fastify.whatsappVersion,
    logger: fastify.whatsappLogger,
    sentMessages: createSentMessageStore(fastify.stateStore.records<string>('sent-message')),
    ...(config.redisUrl === undefined ? {} : { stateStore: fastify.stateStore })
  }))
  fastify.addHook('onClose', async () => {
    fastify.transport.close()
    releaseLibsignalConsole()
  })
}

export default fp(transportPlugin, { name: 'transport', fastify: '5.x', dependencies: ['whatsapp-version', 'state-store'] })
