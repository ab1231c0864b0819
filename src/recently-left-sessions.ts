import { errors, holderUnavailable } from './errors.js'

// With REDIS_URL: the sessions that left this instance without being removed (lease lost, or
// handed over for fair share), for about one lease time. They still exist in the cluster, so a
// call for one that reaches this instance's registry as it moves (placed here by the router just
// before, or before the router sees the new holder) is answered as the router answers for a
// session between holders, 503 SESSION_HOLDER_UNAVAILABLE with Retry-After, never 404: a client
// told "not found" may create the session again or give up. After one lease time the router sees
// the new holder (or that there is none) and answers itself.
export interface RecentlyLeftSessions {
  add: (sessionId: string) => void
  // The session is this instance's again (taken back, or created anew after it was removed elsewhere).
  delete: (sessionId: string) => void
  // Why this instance has no such session: it moved (503), or it does not exist (404).
  notHere: (sessionId: string) => Error
}

export interface RecentlyLeftSessionsOptions {
  forgetAfterMs: number
  retryAfterSeconds: number
  clock?: () => number
}

export function createRecentlyLeftSessions (options: RecentlyLeftSessionsOptions): RecentlyLeftSessions {
  const { forgetAfterMs, retryAfterSeconds } = options
  const clock = options.clock ?? Date.now
  // When each is forgotten. One lifetime for all, and a session added again goes to the end, so
  // the order of the map is the order of expiry: the expired ones are at its oldest end. Only
  // the sessions that left within one lease time are kept, however many ever passed through.
  const forgetAt = new Map<string, number>()

  function dropExpired (now: number): void {
    for (const [sessionId, at] of forgetAt) {
      if (at > now) return
      forgetAt.delete(sessionId)
    }
  }

  return {
    add (sessionId) {
      const now = clock()
      dropExpired(now)
      forgetAt.delete(sessionId)
      forgetAt.set(sessionId, now + forgetAfterMs)
    },
    delete (sessionId) {
      forgetAt.delete(sessionId)
    },
    notHere (sessionId) {
      dropExpired(clock())
      if (forgetAt.has(sessionId)) return holderUnavailable(sessionId, retryAfterSeconds)
      return new errors.SESSION_NOT_FOUND(sessionId)
    }
  }
}
