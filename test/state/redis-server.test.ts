import t from 'tap'
import { connect } from 'node:net'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { findRedisServer, startRedisServer } from './redis-server.js'

t.test('without redis-server the Redis tests fail and say how to install it', async (t) => {
  t.throws(() => findRedisServer('/nonexistent'), /apt-get install redis-server/)
})

t.test('each test gets its own redis-server, with no persistence, stopped at teardown', async (t) => {
  let port = 0
  await t.test('a server', async (t) => {
    const server = await startRedisServer(t)
    port = server.port
    const client = new Redis(server.url)
    t.teardown(() => client.disconnect())
    t.same(await client.config('GET', 'save'), ['save', ''])
    t.same(await client.config('GET', 'appendonly'), ['appendonly', 'no'])
    t.same(await client.config('GET', 'bind'), ['bind', '127.0.0.1'])
  })
  const socket = connect(port, '127.0.0.1')
  const [error] = await once(socket, 'error') as [NodeJS.ErrnoException]
  t.equal(error.code, 'ECONNREFUSED', 'nothing listens on its port after the test')
})
