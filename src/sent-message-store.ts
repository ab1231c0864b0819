import type { RecordCollection } from './state/state-store.js'

// The content of recently sent messages, for WhatsApp's resend requests: a phone that could not
// decrypt a message asks for it again, and without its content the phone shows "waiting for this
// message". Kept on the state store so a restart (or another instance taking the session over)
// can still answer. The content is opaque text made by the transport (WhatsApp's own encoding).
export interface SentMessageStore {
  remember: (sessionId: string, messageId: string, content: string) => Promise<void>
  recall: (sessionId: string, messageId: string) => Promise<string | undefined>
}

// Resend requests come within seconds or minutes of a send; a day covers a phone that was off.
export const sentMessageTtlMs = 24 * 60 * 60 * 1000

export function createSentMessageStore (
  records: RecordCollection<string>,
  options: { ttlMs?: number, clock?: () => number } = {}
): SentMessageStore {
  const { ttlMs = sentMessageTtlMs, clock = Date.now } = options
  // Session ids never contain ':' (see assertSessionId).
  const keyOf = (sessionId: string, messageId: string): string => `${sessionId}:${messageId}`
  return {
    async remember (sessionId, messageId, content) {
      await records.update(keyOf(sessionId, messageId), () => ({ value: content, result: undefined, expiresAt: clock() + ttlMs }))
    },
    async recall (sessionId, messageId) {
      return await records.get(keyOf(sessionId, messageId))
    }
  }
}
