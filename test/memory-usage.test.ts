import t from 'tap'
import { memoryReadingMaxAgeMs, recentMemoryUsage } from '../src/memory-usage.js'

t.test('a memory reading is reused for at most a second', async (t) => {
  let now = 5000
  let reads = 0
  const read = () => ({ ...process.memoryUsage(), rss: 1000 + ++reads, heapUsed: 2000 + reads })
  const memory = recentMemoryUsage(read, () => now)
  t.same(memory(), { rssBytes: 1001, heapUsedBytes: 2001 })
  now += memoryReadingMaxAgeMs - 1
  t.same(memory(), { rssBytes: 1001, heapUsedBytes: 2001 }, 'within the second: the same reading')
  t.equal(reads, 1)
  now += 1
  t.same(memory(), { rssBytes: 1002, heapUsedBytes: 2002 }, 'a second later: read again')
  t.equal(reads, 2)
})

t.test('the default reads the process', async (t) => {
  const { rssBytes, heapUsedBytes } = recentMemoryUsage()()
  t.ok(rssBytes > 0)
  t.ok(heapUsedBytes > 0)
})
