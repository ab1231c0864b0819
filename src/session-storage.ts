import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Transport } from './whatsapp-connection.js'
import type { Session } from './session.js'
import { credentialsAreLinked } from './state/session-auth-state.js'
import type { Lease, StateStore } from './state/state-store.js'

// Where a session's credentials live: a folder per session in AUTH_STATE_DIR (one instance), or
// the shared store under the session's lease (REDIS_URL). The registry's policy is the same for both.
export interface SessionStorage {
  // Whether the session's credentials belong to a linked device, which logs in without a scan.
  hasLinkedCredentials: (sessionId: string) => Promise<boolean>
  // Makes room for a new link: whatever a device that never linked left behind cannot log in.
  prepare: (session: Session) => Promise<void>
  // Deletes the session's credentials: after this, only a new scan brings it back.
  erase: (session: Session) => Promise<void>
  // What the transport opens the socket with.
  connectArguments: (session: Session) => { directory: string, lease: Lease | undefined }
}

export function folderStorage (authStateDirectory: string, transport: Transport): SessionStorage {
  const directoryOf = (sessionId: string): string => join(authStateDirectory, sessionId)
  return {
    hasLinkedCredentials: async (sessionId) => await transport.hasLinkedCredentials(directoryOf(sessionId)),
    async prepare (session) {
      await rm(directoryOf(session.id), { recursive: true, force: true })
      await mkdir(directoryOf(session.id), { recursive: true, mode: 0o700 })
    },
    async erase (session) {
      await rm(directoryOf(session.id), { recursive: true, force: true })
    },
    connectArguments: (session) => ({ directory: directoryOf(session.id), lease: undefined })
  }
}

export function sharedStorage (store: StateStore): SessionStorage {
  return {
    hasLinkedCredentials: async (sessionId) => credentialsAreLinked(await store.authState.readCredentials(sessionId)),
    async prepare (session) {
      if (session.lease !== null) await store.authState.delete(session.id, session.lease)
    },
    async erase (session) {
      if (session.lease !== null) await store.authState.delete(session.id, session.lease)
    },
    connectArguments: (session) => ({ directory: '', lease: session.lease ?? undefined })
  }
}
