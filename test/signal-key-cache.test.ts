// With REDIS_URL the transport keeps the hot Signal keys of each socket in a memory cache in front
// of Redis. Baileys, given no cache, makes one whose expiry sweep is an interval that nothing
// stops: every socket ever opened (each reconnect) left its cache and its interval behind. The
// transport now gives each socket a cache of its own and closes it when the socket ends.
import t from 'tap'
import { createHook } from 'node:async_hooks'
import { authHeaders, buildWithSimulator, linkSession, nextSessionEvent } from './helper.js'
import { startRedisServer } from './state/redis-server.js'

// The cache's interval is unref'd, so process.getActiveResourcesInfo() does not list it; async
// hooks see every timer from its creation until it is cleared (or, for a timeout, has fired).
function watchIntervals (t: { teardown: (fn: () => void) => void }): () => number {
  const timers = new Map<number, { _repeat?: number | null }>()
  const hook = createHook({
    init (id, type, _trigger, resource) { if (type === 'Timeout') timers.set(id, resource as { _repeat?: number | null }) },
    destroy (id) { timers.delete(id) }
  })
  hook.enable()
  t.teardown(() => hook.disable())
  // `_repeat` is Node's own mark of an interval; one-shot timeouts end by themselves.
  return () => [...timers.values()].filter((timer) => timer._repeat != null).length
}

t.test('sockets that end leave no signal key cache running behind (Redis mode)', async (t) => {
  const liveIntervals = watchIntervals(t)
  const redis = await startRedisServer(t)
  const { app, simulator } = await buildWithSimulator(t, { env: { REDIS_URL: redis.url, OTP_SECRET: 'shared-otp-secret-of-the-cluster' } })
  await linkSession(app, simulator, 'steady', '6281390000098')
  const connected = liveIntervals()

  // Closed by WhatsApp: the transport sees the connection close.
  for (let reconnect = 0; reconnect < 3; reconnect++) {
    const reconnected = nextSessionEvent(app, 'connected', 'steady')
    simulator.dropConnections('6281390000098')
    await reconnected
  }
  t.equal(liveIntervals(), connected, 'three sockets lost and replaced: as many intervals running as with the first')

  // Closed by the service: the transport stops the socket itself.
  const restarted = nextSessionEvent(app, 'connected', 'steady')
  const restart = await app.inject({ method: 'PUT', url: '/api/sessions/steady/restart', headers: authHeaders })
  t.equal(restart.statusCode, 200, restart.body)
  await restarted
  t.equal(liveIntervals(), connected, 'a socket closed by the service and replaced: still as many')
})
