import type { Logger } from 'pino'
import { StaleLeaseError, type Lease, type SessionMetadata, type StateStore } from './state/state-store.js'

// With REDIS_URL: which sessions this instance runs. A session's socket exists only on the holder
// of its lease; leases are renewed every third of their lifetime, and a holder that could not
// renew in time closes the socket (without logging out) before the lease can run out, so another
// instance taking the session over never finds a second socket. Sessions spread by fair share:
// an instance takes orphans (linked sessions whose lease is free) while it holds fewer than
// ceil(sessions / live instances) + 1, and hands one over per round while it holds more.

export interface HeldSession {
  lease: Lease
  linked: boolean
}

export interface SessionOwnershipOptions {
  store: StateStore
  instanceId: string
  instanceUrl: string
  leaseMs: number
  logger: Logger
  // The sessions this instance holds a lease on.
  held: () => HeldSession[]
  // Fresh leases on orphan linked sessions, all those of one round: open their sockets.
  adopt: (taken: Array<{ lease: Lease, metadata: SessionMetadata }>) => Promise<void>
  // The lease is lost, or could not be renewed in time: close the socket without logging out.
  lost: (sessionId: string, reason: string) => Promise<void>
  // Over the fair share: close the socket and release the lease for another instance.
  handOver: (sessionId: string) => Promise<void>
  clock?: () => number
}

export interface SessionOwnership {
  acquire: (sessionId: string) => Promise<Lease | undefined>
  release: (lease: Lease) => Promise<void>
  // A fenced write was refused: the lease is gone.
  refused: (sessionId: string) => void
  // Whether this instance's lease on the session is still valid by its own clock (false once a
  // pause outlasted it, before the next round notices).
  holds: (sessionId: string) => boolean
  // Heartbeat, renewals and the first round of taking orphans; then every third of the lease.
  start: () => Promise<void>
  // Stops the rounds and says this instance is gone (its leases are released by the registry).
  stop: () => Promise<void>
  // One round now (tests and start).
  round: () => Promise<void>
}

export function createSessionOwnership (options: SessionOwnershipOptions): SessionOwnership {
  const { store, instanceId, leaseMs, logger } = options
  const clock = options.clock ?? Date.now
  const intervalMs = Math.max(50, Math.floor(leaseMs / 3))
  // When each held lease was last acquired or renewed (the time the call started).
  const renewedAt = new Map<string, number>()
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> = Promise.resolve()
  let stopped = false

  async function lose (sessionId: string, reason: string): Promise<void> {
    if (!renewedAt.delete(sessionId)) return
    logger.warn({ sessionId, reason }, 'session lease lost; closing its socket without logging out')
    await options.lost(sessionId, reason)
  }

  async function renewAll (): Promise<void> {
    await Promise.all(options.held().map(async ({ lease }) => {
      const started = clock()
      const last = renewedAt.get(lease.sessionId) ?? started
      // Half an interval of margin: the socket is closed before the lease can run out, even with
      // a late timer, and at once after a pause longer than the lease.
      if (started + intervalMs * 1.5 >= last + leaseMs) {
        try {
          if (await store.leases.renew(lease, leaseMs)) {
            renewedAt.set(lease.sessionId, started)
            return
          }
        } catch {}
        await lose(lease.sessionId, 'lease not renewed in time')
        return
      }
      try {
        if (await store.leases.renew(lease, leaseMs)) renewedAt.set(lease.sessionId, started)
        else await lose(lease.sessionId, 'another instance holds the lease')
      } catch (error) {
        // Unreachable store: the socket stays while the lease is still valid; the next round decides.
        logger.warn({ sessionId: lease.sessionId, err: error }, 'renewing a session lease failed')
      }
    }))
  }

  async function acquire (sessionId: string): Promise<Lease | undefined> {
    const started = clock()
    const lease = await store.leases.acquire(sessionId, instanceId, leaseMs)
    if (lease !== undefined) renewedAt.set(sessionId, started)
    return lease
  }

  // A session that never linked dies with the instance that created it: its credentials cannot
  // log in, so nobody else opens a socket for it.
  async function dropUnlinked (metadata: SessionMetadata): Promise<void> {
    const lease = await store.leases.acquire(metadata.sessionId, instanceId, leaseMs)
    if (lease === undefined) return
    try {
      await store.authState.delete(metadata.sessionId, lease)
      await store.sessions.delete(metadata.sessionId)
      logger.info({ sessionId: metadata.sessionId, holder: metadata.holder }, 'dropped a session whose instance died before it was linked')
    } finally {
      await store.leases.release(lease)
    }
  }

  async function balance (): Promise<void> {
    const [live, all] = await Promise.all([store.instances.live(), store.sessions.list()])
    const held = options.held()
    const heldIds = new Set(held.map(({ lease }) => lease.sessionId))
    const linked = all.filter((metadata) => metadata.linked === true)
    const fairShare = Math.ceil(linked.length / Math.max(1, live.length)) + 1
    let heldLinked = held.filter((session) => session.linked).length

    if (heldLinked > fairShare && live.length > 1) {
      const extra = held.find((session) => session.linked)
      if (extra !== undefined) {
        logger.info({ sessionId: extra.lease.sessionId, held: heldLinked, fairShare }, 'handing a session over to another instance')
        renewedAt.delete(extra.lease.sessionId)
        await options.handOver(extra.lease.sessionId)
      }
      return
    }

    const taken: Array<{ lease: Lease, metadata: SessionMetadata }> = []
    for (const metadata of all) {
      if (stopped || heldIds.has(metadata.sessionId)) continue
      if (metadata.linked !== true) {
        if (metadata.holder !== instanceId && await store.leases.holder(metadata.sessionId) === undefined) await dropUnlinked(metadata)
        continue
      }
      if (heldLinked >= fairShare) continue
      if (await store.leases.holder(metadata.sessionId) !== undefined) continue
      const lease = await acquire(metadata.sessionId)
      if (lease === undefined) continue
      heldLinked++
      logger.info({ sessionId: metadata.sessionId, epoch: lease.epoch, previousHolder: metadata.holder }, 'took over a session whose lease was free')
      taken.push({ lease, metadata })
    }
    if (taken.length > 0) await options.adopt(taken)
  }

  async function round (): Promise<void> {
    const run = running.then(async () => {
      if (stopped) return
      try {
        await store.instances.heartbeat({ instanceId, url: options.instanceUrl }, leaseMs)
      } catch (error) {
        logger.warn({ err: error }, 'instance heartbeat failed')
      }
      await renewAll()
      if (stopped) return
      try {
        await balance()
      } catch (error) {
        logger.warn({ err: error }, 'looking for sessions to take over failed')
      }
    })
    running = run.catch(() => {})
    await run
  }

  return {
    acquire,
    async release (lease) {
      renewedAt.delete(lease.sessionId)
      await store.leases.release(lease)
    },
    refused (sessionId) {
      void lose(sessionId, new StaleLeaseError(sessionId, instanceId, 0).name)
    },
    holds (sessionId) {
      const renewed = renewedAt.get(sessionId)
      return renewed !== undefined && clock() < renewed + leaseMs
    },
    async start () {
      await round()
      timer = setInterval(() => { void round() }, intervalMs)
    },
    async stop () {
      stopped = true
      if (timer !== null) clearInterval(timer)
      await running
      await store.instances.remove(instanceId).catch((error: unknown) => logger.warn({ err: error }, 'removing the instance heartbeat failed'))
    },
    round
  }
}
