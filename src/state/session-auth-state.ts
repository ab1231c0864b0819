import type { AuthStateCodec, SessionAuthFiles } from '../auth-state-files.js'
import type { Lease, StateStore } from './state-store.js'

// One session's credentials and signal keys kept in a StateStore, in the same shape as the
// per-folder files (src/auth-state-files.ts), so the transport can take either. Every write is
// fenced by the session's lease: once another instance took the session over, writes reject with
// StaleLeaseError and nothing lands. Keys are read from the store on each get; WhatsApp's
// cacheable key store in front of this keeps the hot ones in memory.
export async function openSessionAuthState<Credentials> (
  store: StateStore,
  lease: Lease,
  codec: AuthStateCodec<Credentials>
): Promise<SessionAuthFiles<Credentials>> {
  const { sessionId } = lease
  const stored = await store.authState.readCredentials(sessionId)
  const credentials = stored === undefined ? codec.createCredentials() : codec.deserialize(stored) as Credentials

  let closed = false
  let writes = 0
  const pending = new Set<Promise<void>>()

  // Writes asked for after close are dropped, as with the files: the session is going away.
  async function write (changes: Parameters<StateStore['authState']['write']>[2]): Promise<void> {
    if (closed) return
    const written = store.authState.write(sessionId, lease, changes).then(() => { writes++ })
    pending.add(written)
    try {
      await written
    } finally {
      pending.delete(written)
    }
  }

  return {
    credentials,
    keys: {
      async get (category, ids) {
        const found = await store.authState.readKeys(sessionId, category, ids)
        const result: Record<string, unknown> = {}
        for (const [id, text] of Object.entries(found)) {
          const value = codec.deserialize(text)
          result[id] = codec.reviveKey === undefined ? value : codec.reviveKey(category, value)
        }
        return result
      },
      async set (data) {
        const keys: Record<string, Record<string, string | null>> = {}
        for (const [category, values] of Object.entries(data)) {
          keys[category] = {}
          for (const [id, value] of Object.entries(values)) {
            keys[category][id] = value === null || value === undefined ? null : codec.serialize(value)
          }
        }
        await write({ keys })
      }
    },
    // Serialized when asked, so the store gets the credentials as they are at this moment.
    saveCredentials: async () => await write({ credentials: codec.serialize(credentials) }),
    close: async () => {
      closed = true
      await Promise.allSettled([...pending])
    },
    writeCount: () => writes
  }
}

// The credentials are WhatsApp's own JSON: `account` is written when the phone confirms the link
// (as the transport's codec decides for folders).
export function credentialsAreLinked (text: string | undefined): boolean {
  if (text === undefined) return false
  const credentials = JSON.parse(text) as { account?: unknown, me?: unknown }
  return credentials.account != null && credentials.me != null
}
