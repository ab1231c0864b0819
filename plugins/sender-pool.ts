import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { errors } from '../src/errors.js'
import type { ChatOrigin } from '../src/state/state-store.js'
import type { Restrictions } from './restrictions.js'
import type { SessionRegistry, SessionRestriction, SessionSnapshot } from './session-registry.js'

// Picks the session that sends to a number when the caller names none, in this order:
// 1. a session the number wrote to: it holds the number's privacy token, so WhatsApp delivers
//    even from a restricted account, and writing there starts nothing new;
// 2. an unrestricted session that wrote to the number before (the user sees the same sender);
// 3. any other unrestricted session, the least recently used first, so new chats spread over the
//    accounts instead of wearing one out;
// 4. last, a restricted session that only wrote to the number before: WhatsApp may count it as
//    an existing chat, but without the number's token it may refuse it (463) as a reach-out,
//    which weighs on the restriction (docs/architecture.md, "What counts as an existing chat").

export interface SenderPoolOptions {
  sessions: Pick<SessionRegistry, 'list'>
  // The sessions of the whole cluster (with REDIS_URL, the other instances' as the store has
  // them): a send through a session held elsewhere runs on its holder, and a user-first
  // verification needs only the account's number and the shared store.
  clusterSessions?: () => Promise<PoolSession[]>
  restrictions: Pick<Restrictions, 'describe' | 'sessionsChattingWith'>
  // Retry-After when no session can send and no restriction's end is known.
  defaultRetryAfterSeconds?: number
  clock?: () => number
}

type PoolSession = Pick<SessionSnapshot, 'sessionId' | 'isConnected' | 'restriction'>

export interface SenderPool {
  // Sessions of the cluster that may send to the number (null: a number not known yet), best
  // first: the order `send` tries them in.
  candidates: (phone: string | null, options?: { includeRestricted?: boolean }) => Promise<string[]>
  // Runs the send on each candidate in turn until one takes it. A sender that cannot send now
  // (refused with 463, disconnected, closing, queue full) is skipped; any other answer (cooldown,
  // number not on WhatsApp) is the number's, and is the answer.
  send: <Result>(phone: string, attempt: (sessionId: string) => Promise<Result>) => Promise<{ sessionId: string, result: Result }>
  // The session for a user-first verification, from the cluster's: restricted ones count, the
  // user writes first.
  pickForInbound: (phone: string | null) => Promise<string>
  // Forgets when the session was last picked (when the session is removed or leaves this instance).
  forgetSession: (sessionId: string) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    senderPool: SenderPool
  }
}

const tryNextSender = new Set(['SENDER_RESTRICTED', 'SESSION_NOT_CONNECTED', 'SEND_QUEUE_CLOSED', 'SEND_QUEUE_FULL', 'SESSION_NOT_FOUND', 'SESSION_HOLDER_UNAVAILABLE'])

export function createSenderPool (options: SenderPoolOptions): SenderPool {
  const { sessions, restrictions } = options
  const clusterSessions = options.clusterSessions ?? (async () => sessions.list())
  const clock = options.clock ?? Date.now
  const defaultRetryAfterSeconds = options.defaultRetryAfterSeconds ?? 60
  const lastUsed = new Map<string, number>()

  async function candidates (phone: string | null, { includeRestricted = false } = {}): Promise<string[]> {
    return await ranked(await clusterSessions(), phone, includeRestricted)
  }

  // A session held here: as the restrictions say. One held by another instance: as its holder
  // last wrote it to the store (the restrictions here know nothing of it).
  function restrictionOf (session: Pick<SessionSnapshot, 'sessionId' | 'restriction'>): SessionRestriction | null {
    const restriction = restrictions.describe(session.sessionId) ?? session.restriction ?? null
    if (restriction?.until != null && Date.parse(restriction.until) <= clock()) return null
    return restriction
  }

  async function ranked (among: PoolSession[], phone: string | null, includeRestricted: boolean): Promise<string[]> {
    const connected = among.filter((session) => session.isConnected)
    const byUse = (a: string, b: string): number => (lastUsed.get(a) ?? 0) - (lastUsed.get(b) ?? 0)
    const connectedIds = connected.map((session) => session.sessionId)
    const chats = phone === null ? new Map<string, ChatOrigin>() : await restrictions.sessionsChattingWith(phone, connectedIds)
    const tierOf = (session: PoolSession): number => {
      const origin = chats.get(session.sessionId)
      if (origin === 'contact') return 1
      if (!includeRestricted && restrictionOf(session) !== null) return origin === 'account' ? 4 : 5
      return origin === 'account' ? 2 : 3
    }
    // Once per session, not once per comparison of the sort.
    const tiers = new Map(connected.map((session) => [session.sessionId, tierOf(session)]))
    const tier = (sessionId: string): number => tiers.get(sessionId)!
    return [...tiers.keys()]
      .filter((sessionId) => tier(sessionId) < 5)
      .sort((a, b) => tier(a) - tier(b) || byUse(a, b))
  }

  function noSender (among: PoolSession[]): Error {
    const ends = among
      .filter((session) => session.isConnected)
      .map((session) => restrictionOf(session)?.until)
      .filter((until): until is string => typeof until === 'string')
      .map((until) => Date.parse(until))
    const retryAfterSeconds = ends.length === 0 ? defaultRetryAfterSeconds : Math.max(1, Math.ceil((Math.min(...ends) - clock()) / 1000))
    return Object.assign(new errors.NO_SENDER_AVAILABLE(retryAfterSeconds), { retryAfterSeconds })
  }

  return {
    candidates,
    async send (phone, attempt) {
      const among = await clusterSessions()
      for (const sessionId of await ranked(among, phone, false)) {
        lastUsed.set(sessionId, clock())
        try {
          return { sessionId, result: await attempt(sessionId) }
        } catch (error) {
          if (!tryNextSender.has((error as FastifyError).code)) throw error
        }
      }
      throw noSender(among)
    },
    async pickForInbound (phone) {
      const among = await clusterSessions()
      const [sessionId] = await ranked(among, phone, true)
      if (sessionId === undefined) throw noSender(among)
      lastUsed.set(sessionId, clock())
      return sessionId
    },
    forgetSession (sessionId) {
      lastUsed.delete(sessionId)
    }
  }
}

async function senderPoolPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('senderPool', createSenderPool({
    sessions: fastify.sessions,
    clusterSessions: fastify.instanceRouter.listSessions,
    restrictions: fastify.restrictions
  }))
}

export default fp(senderPoolPlugin, { name: 'sender-pool', fastify: '5.x', dependencies: ['session-registry', 'instance-router', 'restrictions'] })
