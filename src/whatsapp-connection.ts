import type { CloseKind, MessageStatus, RestrictionUpdate } from './events.js'
import type { Lease } from './state/state-store.js'

// What a WhatsApp connection is to the rest of the service: the contract plugins/transport.ts
// fulfils with Baileys, and the session registry and the sender use without knowing Baileys.

export interface ConnectionClose {
  kind: CloseKind
  statusCode: number | undefined
  message: string
}

// WhatsApp's server refused the message (a nack with an error code) or never took it in time.
// 463 is the reach-out timelock: the account may not start new chats. Resending would count as
// another reach-out, so nothing here or above retries it on the same account.
export class SendRefusedError extends Error {
  constructor (readonly errorCode: string, readonly restrictedUntil: Date | null = null) {
    super(errorCode === 'timeout' ? 'WhatsApp did not confirm the message in time' : `WhatsApp refused the message (error ${errorCode})`)
    this.name = 'SendRefusedError'
  }

  get restricted (): boolean {
    return this.errorCode === '463'
  }
}

export interface ConnectionHandlers {
  qr?: (qr: string) => void
  paired?: () => void
  open?: (user: { id: string, name: string | null }) => void
  close?: (close: ConnectionClose) => void
  messageStatus?: (update: { messageId: string, remoteJid: string, status: MessageStatus }) => void
  // `phone`: the sender's number (digits), also for a sender addressed by LID when WhatsApp gave
  // its number with the message or Baileys knows the mapping; null when unknown.
  messageReceived?: (message: {
    messageId: string
    from: string
    phone: string | null
    pushName: string | null
    text: string | null
    timestamp: number
  }) => void
  restriction?: (update: RestrictionUpdate) => void
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

export interface Transport {
  // With a lease, the credentials are the state store's (fenced by the lease), not the folder's.
  connect: (sessionId: string, directory: string, handlers: ConnectionHandlers, lease?: Lease) => Promise<WhatsAppConnection>
  // Whether the folder holds the credentials of a linked device, which log in without a scan.
  hasLinkedCredentials: (directory: string) => Promise<boolean>
  // Releases what connections share (the media upload agent); the registry closes connections first.
  close: () => void
}
