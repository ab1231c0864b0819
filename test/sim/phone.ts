// A simulated phone: a WhatsApp account's primary device (device 0) with its own Signal identity,
// so it can decrypt what Baileys sends it and encrypt messages to a linked Baileys device.
import {
  Curve,
  KEY_BUNDLE_TYPE,
  aesDecryptWithIV,
  encodeBigEndian,
  getMediaKeys,
  proto,
  signedKeyPair,
  type BinaryNode,
} from '@whiskeysockets/baileys'
import { ProtocolAddress, SessionBuilder, SessionCipher, SessionRecord, type SignalStorage } from 'libsignal'
import { randomBytes, randomInt } from 'node:crypto'
import type { KeyPair } from './noise.js'

export type MediaKind = 'image' | 'video' | 'audio' | 'document'

export interface ReceivedMedia {
  kind: MediaKind;
  mimetype: string;
  fileName?: string;
  caption?: string;
  /** The decrypted upload: the original file. */
  bytes: Buffer;
}

export interface ReceivedMessage {
  id: string;
  /** Jid of the sending linked device, as the stanza's participant address names it. */
  from: string;
  /** How it was encrypted: pkmsg opens a Signal session, msg uses an existing one. */
  encType: 'pkmsg' | 'msg';
  message: proto.IMessage;
  text?: string;
  media?: ReceivedMedia;
}

/** What a linked device published about its Signal keys when it registered (ClientPayload.devicePairingData). */
export interface DevicePublicKeys {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
}

/** Where the phone fetches encrypted uploads from (the simulator's media host). */
export interface MediaStore {
  get(directPath: string): Buffer | undefined;
}

const withKeyType = (publicKey: Uint8Array): Buffer =>
  publicKey.length === 33 ? Buffer.from(publicKey) : Buffer.concat([KEY_BUNDLE_TYPE, publicKey])

const toSignalPair = (pair: KeyPair) => ({ pubKey: withKeyType(pair.public), privKey: pair.private })

/** Baileys pads plaintext with 1-16 bytes, each equal to the pad length. */
export function padMessage (bytes: Uint8Array): Buffer {
  const padLength = randomInt(1, 17)
  return Buffer.concat([bytes, Buffer.alloc(padLength, padLength)])
}

function unpadMessage (bytes: Buffer): Buffer {
  const padLength = bytes[bytes.length - 1]
  if (!padLength || padLength > bytes.length) throw new Error('invalid message padding')
  return bytes.subarray(0, bytes.length - padLength)
}

const MEDIA_FIELDS: Array<{ kind: MediaKind; field: 'imageMessage' | 'videoMessage' | 'audioMessage' | 'documentMessage' }> = [
  { kind: 'image', field: 'imageMessage' },
  { kind: 'video', field: 'videoMessage' },
  { kind: 'audio', field: 'audioMessage' },
  { kind: 'document', field: 'documentMessage' },
]

export class Phone {
  readonly jid: string
  readonly lid: string
  readonly lidUser: string
  readonly identity: KeyPair
  readonly registrationId = randomInt(1, 16380)
  private readonly signedPreKey: { keyId: number; keyPair: KeyPair; signature: Buffer }
  private readonly preKeys = new Map<number, KeyPair>()
  private nextPreKeyId = 1
  private readonly sessions = new Map<string, SessionRecord>()
  private readonly inbox: ReceivedMessage[] = []
  private readonly inboxWaiters: Array<(message: ReceivedMessage) => void> = []
  readonly storage: SignalStorage

  constructor (
    readonly phone: string,
    lidUser: string
  ) {
    this.jid = `${phone}@s.whatsapp.net`
    this.lidUser = lidUser
    this.lid = `${lidUser}@lid`
    const identity = Curve.generateKeyPair()
    this.identity = { public: Buffer.from(identity.public), private: Buffer.from(identity.private) }
    const signed = signedKeyPair(this.identity, randomInt(1, 1 << 23))
    this.signedPreKey = {
      keyId: signed.keyId,
      keyPair: { public: Buffer.from(signed.keyPair.public), private: Buffer.from(signed.keyPair.private) },
      signature: Buffer.from(signed.signature),
    }
    this.storage = {
      loadSession: async (address) => this.sessions.get(address),
      storeSession: async (address, record) => {
        this.sessions.set(address, record)
      },
      // A phone in a test trusts every identity: identity changes are not what is simulated.
      isTrustedIdentity: () => true,
      loadPreKey: async (id) => {
        const pair = this.preKeys.get(Number(id))
        return pair ? toSignalPair(pair) : undefined
      },
      removePreKey: (id) => {
        this.preKeys.delete(Number(id))
      },
      loadSignedPreKey: () => toSignalPair(this.signedPreKey.keyPair),
      getOurRegistrationId: () => this.registrationId,
      getOurIdentity: () => toSignalPair(this.identity),
    }
  }

  /** The `<user>` node of an `encrypt` key query: a prekey bundle using a fresh one-time prekey. */
  preKeyBundle (requestedJid: string): BinaryNode {
    const preKeyId = this.nextPreKeyId++
    const preKey = Curve.generateKeyPair()
    this.preKeys.set(preKeyId, { public: Buffer.from(preKey.public), private: Buffer.from(preKey.private) })
    return {
      tag: 'user',
      attrs: { jid: requestedJid },
      content: [
        { tag: 'registration', attrs: {}, content: encodeBigEndian(this.registrationId) },
        { tag: 'type', attrs: {}, content: KEY_BUNDLE_TYPE },
        { tag: 'identity', attrs: {}, content: this.identity.public },
        {
          tag: 'skey',
          attrs: {},
          content: [
            { tag: 'id', attrs: {}, content: encodeBigEndian(this.signedPreKey.keyId, 3) },
            { tag: 'value', attrs: {}, content: this.signedPreKey.keyPair.public },
            { tag: 'signature', attrs: {}, content: this.signedPreKey.signature },
          ],
        },
        {
          tag: 'key',
          attrs: {},
          content: [
            { tag: 'id', attrs: {}, content: encodeBigEndian(preKeyId, 3) },
            { tag: 'value', attrs: {}, content: Buffer.from(preKey.public) },
          ],
        },
      ],
    }
  }

  /** Decrypts one `<enc>` addressed to this phone and keeps the message for nextMessage. */
  async receive (
    sender: { user: string; device: number; jid: string },
    messageId: string,
    encType: string,
    ciphertext: Buffer,
    mediaStore: MediaStore
  ): Promise<ReceivedMessage> {
    const cipher = new SessionCipher(this.storage, new ProtocolAddress(sender.user, sender.device))
    const padded =
      encType === 'pkmsg' ? await cipher.decryptPreKeyWhisperMessage(ciphertext) : await cipher.decryptWhisperMessage(ciphertext)
    const message = proto.Message.decode(unpadMessage(Buffer.from(padded)))
    const received = await describeMessage(messageId, sender.jid, encType === 'pkmsg' ? 'pkmsg' : 'msg', message, mediaStore)
    const waiter = this.inboxWaiters.shift()
    if (waiter) waiter(received)
    else this.inbox.push(received)
    return received
  }

  nextMessage (timeoutMs: number): Promise<ReceivedMessage> {
    const queued = this.inbox.shift()
    if (queued) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const waiter = (message: ReceivedMessage) => {
        clearTimeout(timer)
        resolve(message)
      }
      const timer = setTimeout(() => {
        this.inboxWaiters.splice(this.inboxWaiters.indexOf(waiter), 1)
        reject(new Error(`no message reached ${this.phone} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.inboxWaiters.push(waiter)
    })
  }

  /** Everything received and not yet taken by nextMessage. */
  pendingMessages (): ReceivedMessage[] {
    return [...this.inbox]
  }

  /** Encrypts a message to a linked device; the first one to a device is a pkmsg (no one-time prekey needed). */
  async encryptFor (
    device: { user: string; device: number; keys: DevicePublicKeys },
    message: proto.IMessage
  ): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Buffer }> {
    const address = new ProtocolAddress(device.user, device.device)
    const existing = this.sessions.get(address.toString())
    if (!existing || !existing.haveOpenSession()) {
      await new SessionBuilder(this.storage, address).initOutgoing({
        registrationId: device.keys.registrationId,
        identityKey: withKeyType(device.keys.identityKey),
        signedPreKey: {
          keyId: device.keys.signedPreKey.keyId,
          publicKey: withKeyType(device.keys.signedPreKey.publicKey),
          signature: device.keys.signedPreKey.signature,
        },
        // A linked device's ClientPayload carries no one-time prekey; libsignal builds the session without one.
        preKey: undefined as unknown as { keyId: number; publicKey: Uint8Array },
      })
    }
    const plaintext = padMessage(proto.Message.encode(message).finish())
    const encrypted = await new SessionCipher(this.storage, address).encrypt(plaintext)
    // libsignal's typings say string, but the body is a Buffer (Baileys uses it as one).
    return { type: encrypted.type === 3 ? 'pkmsg' : 'msg', ciphertext: Buffer.from(encrypted.body as unknown as Uint8Array) }
  }
}

async function describeMessage (
  id: string,
  from: string,
  encType: 'pkmsg' | 'msg',
  message: proto.IMessage,
  mediaStore: MediaStore
): Promise<ReceivedMessage> {
  // A copy for the sender's own phone arrives wrapped as a deviceSentMessage.
  const content = message.deviceSentMessage?.message ?? message
  const received: ReceivedMessage = { id, from, encType, message }
  const text = content.conversation ?? content.extendedTextMessage?.text ?? undefined
  if (text) received.text = text
  for (const { kind, field } of MEDIA_FIELDS) {
    const media = content[field]
    if (!media) continue
    const directPath = media.directPath
    if (!directPath || !media.mediaKey) throw new Error(`${kind} message without directPath or mediaKey`)
    const encrypted = mediaStore.get(directPath)
    if (!encrypted) throw new Error(`no upload at ${directPath}`)
    const keys = await getMediaKeys(media.mediaKey, kind)
    // The last 10 bytes of an upload are a truncated HMAC, not ciphertext.
    const bytes = aesDecryptWithIV(encrypted.subarray(0, encrypted.length - 10), keys.cipherKey, keys.iv)
    received.media = {
      kind,
      mimetype: media.mimetype ?? '',
      bytes,
      ...('fileName' in media && media.fileName ? { fileName: media.fileName } : {}),
      ...('caption' in media && media.caption ? { caption: media.caption } : {}),
    }
  }
  return received
}

export function randomMessageId (): string {
  return '3EB0' + randomBytes(8).toString('hex').toUpperCase()
}
