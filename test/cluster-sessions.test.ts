// Several service processes (the built entry) on one real redis-server against the simulator:
// who runs which session, failover after kill -9, hand-over on SIGTERM, a paused holder, and
// moving up from session folders. Each instance has its own directories: nothing shared but Redis.
import t from 'tap'
import { temporaryDirectory } from './helper.js'
import { clusterHeaders as headers, clusterLeaseMs as leaseMs, connectedOn, holders, link, startCluster, until } from './helpers/cluster.js'
import { stopProcess, waitForOutput } from './processes.js'

t.test('three instances: linked sessions spread, kill -9 and SIGTERM move them without a scan or a second socket', async (t) => {
  const cluster = await startCluster(t)
  const { simulator, store } = cluster
  const instances = await Promise.all(['a', 'b', 'c'].map(async (id) => await cluster.start(id)))
  const byId = new Map(instances.map((instance) => [instance.id, instance]))
  const sessionIds = ['s1', 's2', 's3', 's4', 's5', 's6']
  for (const [index, sessionId] of sessionIds.entries()) await link(cluster, instances[0], sessionId, `62815000000${index + 1}`)
  t.equal(cluster.links.scans, 6, 'one scan per session')
  t.equal(cluster.links.registrations, 6, 'one new device per session')

  // Fair share: ceil(6 / 3) + 1 = 3; a holds all six until it hands the extra ones over.
  const spread = await until('sessions spread', async () => {
    const byInstance = await holders(store, sessionIds)
    const counts = [...byInstance.values()].map((held) => held.length)
    return !byInstance.has('none') && byInstance.size >= 2 && Math.max(...counts) <= 3 ? byInstance : undefined
  })
  t.ok([...spread.values()].every((held) => held.length <= 3), `no instance above its fair share plus one: ${JSON.stringify(Object.fromEntries(spread))}`)
  await until('every session connected', async () => (await Promise.all(sessionIds.map(async (id) => await connectedOn(store, id)))).every((holder) => holder !== undefined) ? true : undefined)
  t.equal(simulator.replacedConnections(), 0, 'one socket per account: nobody got 440')

  // kill -9 the holder of s1: its sessions come back on the survivors within the lease plus a few seconds.
  const victim = byId.get((await store.leases.holder('s1'))!.instanceId)!
  const victimSessions = (await holders(store, sessionIds)).get(victim.id)!
  const killedAt = Date.now()
  victim.process.child.kill('SIGKILL')
  await victim.process.exited
  await Promise.all(victimSessions.map(async (sessionId) => await until(`${sessionId} connected on a survivor`, async () => await connectedOn(store, sessionId, (holder) => holder !== victim.id))))
  const failoverMs = Date.now() - killedAt
  t.ok(failoverMs < leaseMs + 5000, `connected again on a survivor in ${failoverMs} ms (lease ${leaseMs} ms)`)
  t.comment(`failover after kill -9: ${failoverMs} ms for ${victimSessions.length} sessions`)

  // SIGTERM releases at once: the other instance takes over well before the lease would have run out.
  const leaving = byId.get((await store.leases.holder('s2'))!.instanceId)!
  const leavingSessions = (await holders(store, sessionIds)).get(leaving.id)!
  const stoppedAt = Date.now()
  await stopProcess(leaving.process.child)
  await Promise.all(leavingSessions.map(async (sessionId) => await until(`${sessionId} handed over`, async () => await connectedOn(store, sessionId, (holder) => holder !== leaving.id))))
  const handOverMs = Date.now() - stoppedAt
  t.ok(handOverMs < leaseMs + 1000, `handed over in ${handOverMs} ms after SIGTERM`)
  t.comment(`hand-over after SIGTERM: ${handOverMs} ms for ${leavingSessions.length} sessions`)

  t.equal(cluster.links.scans, 6, 'no new scan after failover and hand-over')
  t.equal(cluster.links.registrations, 6, 'no socket asked for a new QR: every takeover logged in with the stored credentials')
  t.equal(simulator.replacedConnections(), 0, 'and never two sockets for one account')
  for (const [index] of sessionIds.entries()) t.equal(simulator.connectionCount(`62815000000${index + 1}`), 1, `one socket for account ${index + 1}`)
})

t.test('a paused holder (SIGSTOP past its lease) writes no credentials and keeps no socket after SIGCONT', async (t) => {
  const cluster = await startCluster(t)
  const { simulator, store } = cluster
  const paused = await cluster.start('paused')
  await link(cluster, paused, 'frozen', '6281500000010')
  const survivor = await cluster.start('survivor')

  paused.process.child.kill('SIGSTOP')
  const holder = await until('taken over by the survivor', async () => await connectedOn(store, 'frozen', (id) => id === 'survivor'))
  t.equal(holder, 'survivor')
  const credentialsBefore = await store.authState.readCredentials('frozen')

  paused.process.child.kill('SIGCONT')
  await waitForOutput(paused.process, /session lease lost/)
  t.equal(await connectedOn(store, 'frozen'), 'survivor', 'the survivor still holds and runs the session')
  t.equal(await store.authState.readCredentials('frozen'), credentialsBefore, 'no credential write of the woken instance landed')
  await until('one socket for the account', async () => simulator.connectionCount('6281500000010') === 1 ? true : undefined)
  // The frozen socket was still open at the simulator when the survivor logged in, so WhatsApp
  // closed that one with 440 as it would; the survivor's own socket was never replaced.
  t.ok(simulator.replacedConnections() <= 1, 'at most the frozen socket got 440')
  const status = await (await fetch(`${survivor.base}/api/sessions/frozen/status`, { headers })).json() as { data: { status: string } }
  t.equal(status.data.status, 'connected')
})

t.test('moving up: session folders of a single instance are imported once, no new scan', async (t) => {
  const cluster = await startCluster(t)
  const { simulator, store } = cluster
  const directory = await temporaryDirectory(t)
  const single = await cluster.start('single', { directory, redis: false })
  const created = await fetch(`${single.base}/api/sessions/create`, { method: 'POST', headers, body: JSON.stringify({ sessionId: 'moving' }) })
  t.equal(created.status, 201)
  const qr = await (await fetch(`${single.base}/api/sessions/moving/qr`, { headers })).json() as { data: { qr: string } }
  await simulator.scanQr(qr.data.qr, { phone: '6281500000020' })
  await waitForOutput(single.process, /"to":"connected"/)
  await stopProcess(single.process.child)

  const first = await cluster.start('first', { directory })
  await until('imported and connected', async () => await connectedOn(store, 'moving'))
  t.match(first.process.output(), /"outcome":"imported"/)
  await stopProcess(first.process.child)
  const again = await cluster.start('again', { directory })
  await until('connected again', async () => await connectedOn(store, 'moving', (id) => id === 'again'))
  t.match(again.process.output(), /"outcome":"marked-before"/, 'the folder is not imported a second time')
  t.equal(cluster.links.scans, 1, 'one scan in all')
  t.equal(cluster.links.registrations, 1, 'no new QR asked for after the import')
  t.equal(simulator.replacedConnections(), 0)
})
