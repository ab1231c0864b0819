import type { Database } from 'lmdb'
import { assertKeyPart, type ChatOrigin, type ChatStore } from './state-store.js'

// The embedded store's chats (src/state/embedded-state-store.ts opens the database and sweeps it).
// A chat is kept under '<session>/<phone>' until its end; one the number wrote in also under
// '<session>/+<phone>' with its own end. Both sit in the session's key range, so they are
// forgotten with it in one range delete.
export function createEmbeddedChatStore (
  database: Database<number, string>,
  options: { assertOpen: () => void, clock: () => number }
): ChatStore {
  const { assertOpen, clock } = options
  const chatKey = (sessionId: string, phone: string, origin: ChatOrigin = 'account'): string =>
    `${sessionId}/${origin === 'contact' ? '+' : ''}${phone}`

  return {
    async record (sessionId, phone, expiresAt, origin) {
      assertOpen()
      assertKeyPart('session id', sessionId)
      assertKeyPart('phone number', phone)
      const keys = [chatKey(sessionId, phone), ...(origin === 'contact' ? [chatKey(sessionId, phone, 'contact')] : [])]
      return await database.transaction(() => {
        const stored = keys.map((key) => database.get(key))
        keys.forEach((key, index) => database.putSync(key, Math.max(stored[index] ?? 0, expiresAt)))
        return stored[0] === undefined || stored[0] <= clock()
      })
    },
    async sessionsChattingWith (phone, sessionIds) {
      assertOpen()
      const now = clock()
      const found = await database.getMany(sessionIds.flatMap((sessionId) => [chatKey(sessionId, phone), chatKey(sessionId, phone, 'contact')]))
      const chatting = new Map<string, ChatOrigin>()
      sessionIds.forEach((sessionId, index) => {
        if ((found[2 * index + 1] ?? 0) > now) chatting.set(sessionId, 'contact')
        else if ((found[2 * index] ?? 0) > now) chatting.set(sessionId, 'account')
      })
      return chatting
    },
    async forgetSession (sessionId) {
      assertOpen()
      assertKeyPart('session id', sessionId)
      await database.transaction(() => {
        // The range from '<session>/' to '<session>0' ('0' follows '/') is this session's.
        for (const key of database.getKeys({ start: `${sessionId}/`, end: `${sessionId}0` })) database.removeSync(key)
      })
    }
  }
}
