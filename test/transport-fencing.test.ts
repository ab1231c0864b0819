// Fencing proven at the write: the real transport and Baileys against the simulator, credentials
// in a real redis-server. A connection opened under a lease that another instance has since taken
// (its holder was paused past the lease) gets every credential write refused, and says so.
import t from 'tap'
import { buildWithSimulator } from './helper.js'
import { startRedisServer } from './state/redis-server.js'

t.test('a connection whose lease was taken over writes no credentials: the write is refused and reported', async (t) => {
  const redis = await startRedisServer(t)
  const { app, simulator } = await buildWithSimulator(t, { env: { REDIS_URL: redis.url, OTP_SECRET: 'shared-otp-secret-of-the-cluster', SESSION_LEASE_MS: '3000' } })
  const store = app.stateStore
  const stale = await store.leases.acquire('fenced', 'paused-instance', 300)
  if (stale === undefined) throw new Error('the lease was free')

  let offered: (qr: string) => void = () => {}
  const qr = new Promise<string>((resolve) => { offered = resolve })
  let refused: () => void = () => {}
  const refusal = new Promise<void>((resolve) => { refused = resolve })
  const connection = await app.transport.connect('fenced', '', { qr: offered, leaseRefused: refused }, stale)
  t.teardown(() => connection.close())
  const text = await qr
  const before = await store.authState.readCredentials('fenced')

  // The paused holder's lease runs out and another instance takes the session.
  while (await store.leases.holder('fenced') !== undefined) await new Promise((resolve) => setTimeout(resolve, 50))
  const current = await store.leases.acquire('fenced', 'other-instance', 60_000)
  t.ok(current !== undefined && current.epoch > stale.epoch, 'the new holder has a higher epoch')

  // Linking makes Baileys save credentials (me, account, signal identities) under the stale lease.
  await simulator.scanQr(text, { phone: '6281500000030' })
  await refusal
  t.pass('the refused write was reported (the registry closes the socket on it)')
  t.equal(await store.authState.readCredentials('fenced'), before, 'nothing the stale holder wrote landed')
  t.equal(connection.credentialWrites(), 0, 'no write counted as done')
})
