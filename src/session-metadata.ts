import type { Logger } from 'pino'
import type { Session, SessionRestriction } from './session.js'
import type { StateStore } from './state/state-store.js'

export interface SessionMetadataWriter {
  // Writes the session's status where the other instances read lists and statuses.
  publish: (session: Session) => void
  // Removes it, behind the writes already queued, so none of them lists the session again.
  remove: (sessionId: string) => Promise<void>
  // Resolves once every write asked for so far is done (shutdown).
  flush: () => Promise<void>
}

// With REDIS_URL every change of a session is written to the shared store, in order, and only
// while this instance holds its lease (`holds`); a failed write is logged, the next change
// writes the whole record again.
export function createSessionMetadataWriter (options: {
  store: Pick<StateStore, 'sessions'>
  instanceId: string
  logger: Logger
  holds: (session: Session) => boolean
  describeRestriction: (sessionId: string) => SessionRestriction | null
}): SessionMetadataWriter {
  const { store, instanceId, logger } = options
  let writing: Promise<void> = Promise.resolve()

  return {
    publish (session) {
      if (!options.holds(session)) return
      const { id, status, linked, user, createdAt, updatedAt } = session
      writing = writing.then(async () => {
        await store.sessions.update(id, (current) => ({
          value: {
            ...current,
            sessionId: id,
            createdAt: current?.createdAt ?? createdAt.toISOString(),
            status,
            linked,
            user,
            holder: instanceId,
            updatedAt: updatedAt.toISOString(),
            // Read when the write runs, so writes queued behind a change all carry it.
            restriction: options.describeRestriction(id)
          },
          result: null
        }))
      }).catch((error: unknown) => logger.warn({ sessionId: id, err: error }, 'writing the session metadata to the state store failed'))
    },

    async remove (sessionId) {
      const removal = writing.then(async () => await store.sessions.delete(sessionId))
      writing = removal.catch(() => {})
      await removal
    },

    async flush () {
      await writing
    }
  }
}
