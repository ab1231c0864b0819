import { EventEmitter } from 'node:events'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Counter, Gauge } from 'prom-client'
import { guarded } from '../src/guarded-listener.js'
import type { MessageSenderEventMap, RestrictionUpdate, SessionEventMap } from '../src/events.js'
import type { SessionRestriction } from './session-registry.js'

// What each session may do about new chats, and which chats it already has. WhatsApp restricts an
// account that starts too many new chats: its messages to new contacts are refused (463) while
// chats that exist keep working. A chat exists once the number wrote to the account, or the
// account wrote to it and was not refused.

export interface RestrictionEventMap {
  restricted: [{ sessionId: string } & SessionRestriction]
  lifted: [{ sessionId: string }]
}

export interface RestrictionsOptions {
  sessions: EventEmitter<SessionEventMap>
  messageSender: EventEmitter<MessageSenderEventMap>
  logger: FastifyBaseLogger
  // How long a 463 alone (WhatsApp announced no timelock) keeps a session away from new chats.
  refusalHoldMs?: number
  // Numbers remembered per session; the oldest are forgotten first.
  maxChatsPerSession?: number
  clock?: () => number
}

export interface Restrictions {
  events: EventEmitter<RestrictionEventMap>
  describe: (sessionId: string) => SessionRestriction | null
  hasChat: (sessionId: string, phone: string) => boolean
  restrictedCount: () => number
  close: () => void
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

export function createRestrictions (options: RestrictionsOptions): Restrictions {
  const { sessions, messageSender, logger } = options
  const clock = options.clock ?? Date.now
  const refusalHoldMs = options.refusalHoldMs ?? 15 * 60_000
  const maxChats = options.maxChatsPerSession ?? 50_000
  const events = new EventEmitter<RestrictionEventMap>()
  const blocks = new Map<string, Map<Source, Block>>()
  const chats = new Map<string, Set<string>>()
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

  function addChat (sessionId: string, phone: string): boolean {
    let known = chats.get(sessionId)
    if (known === undefined) {
      known = new Set()
      chats.set(sessionId, known)
    }
    const isNew = !known.has(phone)
    known.delete(phone)
    known.add(phone)
    if (known.size > maxChats) known.delete(known.values().next().value as string)
    return isNew
  }

  const onRestriction = guarded(logger, 'restrictions', (update: SessionEventMap['restriction'][0]) => {
    const { sessionId, source, active, until, reason } = update
    if (!active) {
      // WhatsApp says new chats may start again: an earlier refusal no longer holds either.
      set(sessionId, source, null)
      if (source === 'timelock') set(sessionId, 'refusal', null)
      return
    }
    set(sessionId, source, { until: until?.getTime() ?? null, reason })
  })
  const onReceived = guarded(logger, 'restrictions', ({ sessionId, phone }: SessionEventMap['message-received'][0]) => {
    if (phone !== null) addChat(sessionId, phone)
  })
  const onSent = guarded(logger, 'restrictions', ({ sessionId, to }: MessageSenderEventMap['sent'][0]) => {
    // WhatsApp took a message that starts a new chat: whatever restriction we knew of is over,
    // even if its end was not announced to this device.
    if (addChat(sessionId, to) && (blocks.get(sessionId)?.size ?? 0) > 0) {
      blocks.delete(sessionId)
      announce(sessionId)
    }
  })
  const onFailed = guarded(logger, 'restrictions', ({ sessionId, errorCode }: MessageSenderEventMap['failed'][0]) => {
    if (errorCode !== 'SENDER_RESTRICTED') return
    set(sessionId, 'refusal', { until: clock() + refusalHoldMs, reason: 'REFUSED_463' })
  })
  const onRemoved = ({ sessionId }: { sessionId: string }): void => {
    blocks.delete(sessionId)
    chats.delete(sessionId)
    announced.delete(sessionId)
    clearTimeout(expiryTimers.get(sessionId))
    expiryTimers.delete(sessionId)
  }
  sessions.on('restriction', onRestriction)
  sessions.on('message-received', onReceived)
  sessions.on('removed', onRemoved)
  messageSender.on('sent', onSent)
  messageSender.on('failed', onFailed)

  return {
    events,
    describe: current,
    hasChat: (sessionId, phone) => chats.get(sessionId)?.has(phone) ?? false,
    restrictedCount: () => [...blocks.keys()].filter((sessionId) => current(sessionId) !== null).length,
    close () {
      sessions.off('restriction', onRestriction)
      sessions.off('message-received', onReceived)
      sessions.off('removed', onRemoved)
      messageSender.off('sent', onSent)
      messageSender.off('failed', onFailed)
      for (const timer of expiryTimers.values()) clearTimeout(timer)
      expiryTimers.clear()
    }
  }
}

async function restrictionsPlugin (fastify: FastifyInstance): Promise<void> {
  const log = fastify.log.child({ component: 'restrictions' })
  const restrictions = createRestrictions({ sessions: fastify.sessions.events, messageSender: fastify.messageSender.events, logger: log })
  fastify.decorate('restrictions', restrictions)
  fastify.sessions.describeRestrictionWith(restrictions.describe)

  const registers = [fastify.metrics.registry]
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'sessions_restricted',
    help: 'Sessions WhatsApp currently refuses to let start new chats (reach-out timelock, new-chat cap, or a 463 refusal)',
    registers,
    collect () { this.set(restrictions.restrictedCount()) }
  })
  const restrictionChanges = new Counter({ name: 'session_restriction_changes_total', help: 'Restrictions on new chats that began (restricted) or ended (lifted)', labelNames: ['change'] as const, registers })
  restrictions.events.on('restricted', guarded(log, 'restrictions', ({ sessionId, newChats, until, reason }) => {
    restrictionChanges.inc({ change: 'restricted' })
    fastify.webhooks.publish('session.restricted', sessionId, { newChats, until, reason })
  }))
  restrictions.events.on('lifted', guarded(log, 'restrictions', ({ sessionId }) => {
    restrictionChanges.inc({ change: 'lifted' })
    fastify.webhooks.publish('session.restriction_lifted', sessionId, {})
  }))
  fastify.addHook('onClose', async () => {
    restrictions.close()
  })
}

export default fp(restrictionsPlugin, { name: 'restrictions', fastify: '5.x', dependencies: ['session-registry', 'message-sender', 'metrics', 'webhooks'] })
