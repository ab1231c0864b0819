import type { AnyMessageContent, NewChatMessageCapInfo, WAMessageContent } from '@whiskeysockets/baileys'
import type { RestrictionUpdate } from './events.js'
import type { OutgoingMedia } from './whatsapp-connection.js'

// Translations between WhatsApp's message shapes and the service's, without the socket: what
// plugins/transport.ts reads from incoming messages and notifications, and writes when it sends.

// A CAPPED new-chat cap blocks new chats until the cycle ends, like a timelock.
export function capRestriction (info: NewChatMessageCapInfo): RestrictionUpdate {
  const ends = Number(info.cycle_end_timestamp ?? 0)
  return {
    source: 'cap',
    active: info.capping_status === 'CAPPED',
    until: ends > 0 ? new Date(ends * 1000) : null,
    reason: `NEW_CHAT_CAP_${info.capping_status ?? 'NONE'}`
  }
}

export function messageText (message: WAMessageContent | null | undefined): string | null {
  return message?.conversation ?? message?.extendedTextMessage?.text ?? message?.imageMessage?.caption ??
    message?.videoMessage?.caption ?? message?.documentMessage?.caption ?? null
}

// WhatsApp's message shape for each kind; audio carries no caption.
export function mediaContent (media: OutgoingMedia): AnyMessageContent {
  const caption = media.caption === undefined ? {} : { caption: media.caption }
  switch (media.kind) {
    case 'image': return { image: media.bytes, mimetype: media.mimetype, ...caption }
    case 'video': return { video: media.bytes, mimetype: media.mimetype, ...caption }
    case 'audio': return { audio: media.bytes, mimetype: media.mimetype }
    case 'document': return { document: media.bytes, mimetype: media.mimetype, fileName: media.fileName ?? 'file', ...caption }
  }
}
