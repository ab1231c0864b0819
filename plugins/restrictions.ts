import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
import type { MessageSenderEventMap, RestrictionEventMap, RestrictionUpdate, SessionEventMap } from '../src/events.js'
import type { ChatOrigin, ChatStore } from '../src/state/state-store.js'
import type { SessionRestriction } from './session-registry.js'

// What each session may do about new chats, and which chats it already has. WhatsApp restricts an
// account that starts too many new chats: its messages to new contacts are refused (463) while
// chats that exist keep working. A chat exists once the number wrote to the account, or the
// account wrote to it and was not refused. Chats are kept in the state store, so they outlive a
// restart and every instance of a cluster sees them.

export interface RestrictionsOptions {
  logger: FastifyBaseLogger
  chats: ChatStore
  // How long a 463 alone (WhatsApp announced no timelock) keeps a session away from new chats.
  refusalHoldMs?: number
  clock?: () => number
}

export interface Restrictions {
  events: EventEmitter<RestrictionEventMap>
  describe: (sessionId: string) => SessionRestriction | null
  // Those of `sessionIds` that chat with the number, and whether the number wrote (one read).
  sessionsChattingWith: (phone: string, sessionIds: string[]) => Promise<Map<string, ChatOrigin>>
  restrictedCount: () => number
  // What the session registry and the sender report, as plugins/event-wiring.ts passes it on.
  recordRestriction: (update: SessionEventMap['restriction'][0]) => void
  recordReceived: (message: SessionEventMap['message-received'][0]) => void
  recordSent: (sent: MessageSenderEventMap['sent'][0]) => void
  recordFailed: (failed: MessageSenderEventMap['failed'][0]) => void
  // A removed session: its restriction and its chats are forgotten.
  forgetSession: (sessionId: string) => void
  // A session that runs on another instance now: only what this instance kept of its restriction
  // goes; its chats, shared with the new holder, stay.
  sessionLeft: (sessionId: string) => void
  close: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    restrictions: Restrictions
  }
}

type Source = RestrictionUpdate['source'] | 'refusal'

interface Block {
  until: number | null
  reason: string
}

// The order in which sources name the restriction's reason: what WhatsApp announced first.
const sourcePriority: Source[] = ['timelock', 'cap', 'refusal']

// A restricted account's message goes out when it carries the contact's privacy token (tctoken),
// which the contact issues when it writes. Baileys 7.0.0-rc14 keeps a token for a rolling window of
// 4 weekly buckets (Utils/tc-token-utils.js isTcTokenExpired): one issued at T is dropped when the
// fourth bucket after T's begins. A chat is remembered exactly that long after its last message:
// for a number that wrote, the pool never prefers a restricted sender whose token is gone, nor
// forgets one that still holds it; and a session keeps only the numbers of the last 4 weeks.
const tokenBucketMs = 7 * 24 * 60 * 60 * 1000
const tokenBuckets = 4

export function chatExpiresAt (at: number): number {
  return (Math.floor(at / tokenBucketMs) + tokenBuckets) * tokenBucketMs
}

export function createRestrictions (options: RestrictionsOptions): Restrictions {
  const { logger, chats } = options
  const clock = options.clock ?? Date.now
  const refusalHoldMs = options.refusalHoldMs ?? 15 * 60_000
  const events = new EventEmitter<RestrictionEventMap>()
  const blocks = new Map<string, Map<Source, Block>>()
  const announced = new Map<string, string>()
  const expiryTimers = new Map<string, NodeJS.Timeout>()

  function current (sessionId: string): SessionRestriction | null {
    const sources = blocks.get(sessionId)
    if (sources === undefined) return null
    const now = clock()
    for (const source of sourcePriority) {
      const block = sources.get(source)
      if (block === undefined) continue
      if (block.until !== null && block.until <= now) {
        sources.delete(source)
        continue
      }
      return { newChats: 'blocked', until: block.until === null ? null : new Date(block.until).toISOString(), reason: block.reason }
    }
    return null
  }

  // Emits restricted / lifted when what the session shows changed, and wakes up when it ends.
  function announce (sessionId: string): void {
    const restriction = current(sessionId)
    const key = restriction === null ? '' : JSON.stringify(restriction)
    const previous = announced.get(sessionId) ?? ''
    clearTimeout(expiryTimers.get(sessionId))
    expiryTimers.delete(sessionId)
    const ends = [...(blocks.get(sessionId)?.values() ?? [])].map((block) => block.until).filter((until): until is number => until !== null)
    if (ends.length > 0) {
      const timer = setTimeout(() => announce(sessionId), Math.max(0, Math.min(...ends) - clock()) + 10)
      timer.unref()
      expiryTimers.set(sessionId, timer)
    }
    if (key === previous) return
    if (restriction === null) {
      announced.delete(sessionId)
      logger.info({ sessionId }, 'WhatsApp lifted the restriction on new chats')
      events.emit('lifted', { sessionId })
    } else {
      announced.set(sessionId, key)
      logger.warn({ sessionId, ...restriction }, 'WhatsApp restricts this account: messages to new chats are refused')
      events.emit('restricted', { sessionId, ...restriction })
    }
  }

  function set (sessionId: string, source: Source, block: Block | null): void {
    let sources = blocks.get(sessionId)
    if (block === null) sources?.delete(source)
    else {
      if (sources === undefined) {
        sources = new Map()
        blocks.set(sessionId, sources)
      }
      sources.set(source, block)
    }
    announce(sessionId)
  }

  // Listeners cannot wait: the write runs on, and a failure (the store unreachable) is logged.
  // Written before the event's other consumers run (the wiring lists this one first), so a
  // reader who heard of the message (a webhook) finds the chat. close() waits for these writes.
  const writing = new Set<Promise<unknown>>()
  function tracked<Result> (write: Promise<Result>): Promise<Result> {
    writing.add(write)
    return write.finally(() => writing.delete(write))
  }
  async function addChat (sessionId: string, phone: string, origin: ChatOrigin): Promise<boolean> {
    return await tracked(chats.record(sessionId, phone, chatExpiresAt(clock()), origin))
  }
  function logFailure (sessionId: string) {
    return (error: unknown): void => { logger.error({ err: error, sessionId }, 'recording a chat in the state store failed') }
  }

  function forgetRestriction (sessionId: string): void {
    blocks.delete(sessionId)
    announced.delete(sessionId)
    clearTimeout(expiryTimers.get(sessionId))
    expiryTimers.delete(sessionId)
  }

  function recordRestriction ({ sessionId, source, active, until, reason }: SessionEventMap['restriction'][0]): void {
    if (!active) {
      // WhatsApp says new chats may start again: an earlier refusal no longer holds either.
      set(sessionId, source, null)
      if (source === 'timelock') set(sessionId, 'refusal', null)
      return
    }
    set(sessionId, source, { until: until?.getTime() ?? null, reason })
  }

  return {
    events,
    describe: current,
    sessionsChattingWith: async (phone, sessionIds) => await chats.sessionsChattingWith(phone, sessionIds),
    restrictedCount: () => [...blocks.keys()].filter((sessionId) => current(sessionId) !== null).length,
    recordRestriction,
    recordReceived ({ sessionId, phone }) {
      if (phone !== null) addChat(sessionId, phone, 'contact').catch(logFailure(sessionId))
    },
    recordSent ({ sessionId, to }) {
      addChat(sessionId, to, 'account').then((isNew) => {
        // WhatsApp took a message that starts a new chat: whatever restriction we knew of is
        // over, even if its end was not announced to this device.
        if (isNew && (blocks.get(sessionId)?.size ?? 0) > 0) {
          blocks.delete(sessionId)
          announce(sessionId)
        }
      }).catch(logFailure(sessionId))
    },
    recordFailed ({ sessionId, errorCode }) {
      if (errorCode !== 'SENDER_RESTRICTED') return
      set(sessionId, 'refusal', { until: clock() + refusalHoldMs, reason: 'REFUSED_463' })
    },
    forgetSession (sessionId) {
      forgetRestriction(sessionId)
      tracked(chats.forgetSession(sessionId))
        .catch((error: unknown) => logger.error({ err: error, sessionId }, 'forgetting a removed session\'s chats failed'))
    },
    sessionLeft: forgetRestriction,
    async close () {
      for (const timer of expiryTimers.values()) clearTimeout(timer)
      expiryTimers.clear()
      // The state store closes after this plugin: chats being written reach it first.
      await Promise.allSettled(writing)
    }
  }
}

async function restrictionsPlugin (fastify: FastifyInstance): Promise<void> {
  const restrictions = createRestrictions({ logger: fastify.log.child({ component: 'restrictions' }), chats: fastify.stateStore.chats })
  fastify.decorate('restrictions', restrictions)
  fastify.sessions.describeRestrictionWith(restrictions.describe)

  // eslint-disable-next-line no-new
  new Gauge({
    name: 'sessions_restricted',
    help: 'Sessions WhatsApp currently refuses to let start new chats (reach-out timelock, new-chat cap, or a 463 refusal)',
    registers: [fastify.metrics.registry],
    collect () { this.set(restrictions.restrictedCount()) }
  })
  fastify.addHook('onClose', async () => {
    await restrictions.close()
  })
}

export default fp(restrictionsPlugin, { name: 'restrictions', fastify: '5.x', dependencies: ['session-registry', 'metrics', 'state-store'] })
