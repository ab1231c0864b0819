// The server half of WhatsApp Web's Noise XX handshake and the encrypted frame layer after it,
// mirroring node_modules/@whiskeysockets/baileys/lib/Utils/noise-handler.js (the client half).
import {
  Curve,
  NOISE_MODE,
  NOISE_WA_HEADER,
  WA_CERT_DETAILS,
  aesDecryptGCM,
  aesEncryptGCM,
  hkdf,
  proto,
  sha256,
} from '@whiskeysockets/baileys'

export interface KeyPair {
  public: Buffer;
  private: Buffer;
}

export interface ServerIdentity {
  staticKey: KeyPair;
  /** CertChain bytes sent (encrypted) in ServerHello. */
  certificateChain: Buffer;
  /** The simulator's own root; a Baileys that checks the root would need WA_CERT_DETAILS.PUBLIC_KEY set to it. */
  rootPublicKey: Buffer;
}

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes)

/** A root -> intermediate -> leaf chain made of the simulator's own keys, with WhatsApp's issuer serial. */
export function createServerIdentity (): ServerIdentity {
  const root = Curve.generateKeyPair()
  const intermediate = Curve.generateKeyPair()
  const staticKey = Curve.generateKeyPair()
  const now = Math.floor(Date.now() / 1000)
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 1,
    issuerSerial: WA_CERT_DETAILS.SERIAL,
    key: intermediate.public,
    notBefore: now - 3600,
    notAfter: now + 86400,
  }).finish()
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 2,
    issuerSerial: 1,
    key: staticKey.public,
    notBefore: now - 3600,
    notAfter: now + 86400,
  }).finish()
  const certificateChain = proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Curve.sign(root.private, intermediateDetails) },
    leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) },
  }).finish()
  return {
    staticKey: { public: toBuffer(staticKey.public), private: toBuffer(staticKey.private) },
    certificateChain: toBuffer(certificateChain),
    rootPublicKey: toBuffer(root.public),
  }
}

const counterIv = (counter: number): Buffer => {
  const iv = Buffer.alloc(12)
  iv.writeUInt32BE(counter, 8)
  return iv
}

export interface HandshakeResult {
  clientStaticKey: Buffer;
  clientPayload: proto.ClientPayload;
  transport: TransportCipher;
}

/** Counter-IV AES-GCM for frames after the handshake: the server reads with the client's write key. */
export class TransportCipher {
  private readCounter = 0
  private writeCounter = 0
  constructor (
    private readonly readKey: Buffer,
    private readonly writeKey: Buffer
  ) {}

  encrypt (plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.writeKey, counterIv(this.writeCounter++), Buffer.alloc(0))
  }

  decrypt (ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.readKey, counterIv(this.readCounter++), Buffer.alloc(0))
  }
}

/** Handshake state of one connection, from ClientHello to ClientFinish. */
export class ServerHandshake {
  private hash: Buffer = Buffer.from(NOISE_MODE)
  private salt: Buffer = this.hash
  private key: Buffer = this.hash
  private counter = 0
  private readonly ephemeral = Curve.generateKeyPair()
  private clientEphemeral: Buffer = Buffer.alloc(0)

  constructor (private readonly identity: ServerIdentity) {
    this.authenticate(NOISE_WA_HEADER)
  }

  private authenticate (data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]))
  }

  private mixIntoKey (data: Uint8Array): void {
    const derived = Buffer.from(hkdf(Buffer.from(data), 64, { salt: this.salt, info: '' }))
    this.salt = derived.subarray(0, 32)
    this.key = derived.subarray(32)
    this.counter = 0
  }

  private encrypt (plaintext: Uint8Array): Buffer {
    const result = aesEncryptGCM(plaintext, this.key, counterIv(this.counter++), this.hash)
    this.authenticate(result)
    return result
  }

  private decrypt (ciphertext: Uint8Array): Buffer {
    const result = aesDecryptGCM(ciphertext, this.key, counterIv(this.counter++), this.hash)
    this.authenticate(ciphertext)
    return result
  }

  /** Takes the ClientHello frame, returns the ServerHello frame. */
  answerClientHello (frame: Uint8Array): Buffer {
    const hello = proto.HandshakeMessage.decode(frame)
    const clientEphemeral = hello.clientHello?.ephemeral
    if (!clientEphemeral) throw new Error('expected ClientHello with an ephemeral key')
    this.clientEphemeral = Buffer.from(clientEphemeral)
    this.authenticate(this.clientEphemeral)
    this.authenticate(this.ephemeral.public)
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, this.clientEphemeral))
    const encryptedStatic = this.encrypt(this.identity.staticKey.public)
    this.mixIntoKey(Curve.sharedKey(this.identity.staticKey.private, this.clientEphemeral))
    const encryptedChain = this.encrypt(this.identity.certificateChain)
    return Buffer.from(
      proto.HandshakeMessage.encode({
        serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedChain },
      }).finish()
    )
  }

  /** Takes the ClientFinish frame; after it both sides switch to transport keys. */
  readClientFinish (frame: Uint8Array): HandshakeResult {
    const finish = proto.HandshakeMessage.decode(frame).clientFinish
    if (!finish?.static || !finish.payload) throw new Error('expected ClientFinish')
    const clientStaticKey = this.decrypt(finish.static)
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientStaticKey))
    const clientPayload = proto.ClientPayload.decode(this.decrypt(finish.payload))
    const keys = Buffer.from(hkdf(Buffer.alloc(0), 64, { salt: this.salt, info: '' }))
    const clientWriteKey = keys.subarray(0, 32)
    const clientReadKey = keys.subarray(32)
    return { clientStaticKey, clientPayload, transport: new TransportCipher(clientWriteKey, clientReadKey) }
  }
}

/** Splits the byte stream into frames (3-byte big-endian length, then bytes), after the 4-byte intro header. */
export class FrameReader {
  private buffered = Buffer.alloc(0)
  private sawHeader = false

  push (data: Buffer): Buffer[] {
    this.buffered = Buffer.concat([this.buffered, data])
    if (!this.sawHeader) {
      if (this.buffered.length < NOISE_WA_HEADER.length) return []
      const header = this.buffered.subarray(0, NOISE_WA_HEADER.length)
      if (!header.equals(NOISE_WA_HEADER)) throw new Error(`unexpected intro header ${header.toString('hex')}`)
      this.buffered = this.buffered.subarray(NOISE_WA_HEADER.length)
      this.sawHeader = true
    }
    const frames: Buffer[] = []
    while (this.buffered.length >= 3) {
      const size = (this.buffered[0] << 16) | (this.buffered[1] << 8) | this.buffered[2]
      if (this.buffered.length < size + 3) break
      frames.push(this.buffered.subarray(3, size + 3))
      this.buffered = this.buffered.subarray(size + 3)
    }
    return frames
  }
}

export function encodeFrame (data: Uint8Array): Buffer {
  const frame = Buffer.alloc(3 + data.byteLength)
  frame[0] = (data.byteLength >>> 16) & 0xff
  frame[1] = (data.byteLength >>> 8) & 0xff
  frame[2] = data.byteLength & 0xff
  frame.set(data, 3)
  return frame
}
