import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import t from 'tap'
import { guarded } from '../src/guarded-listener.js'

t.test('a listener that throws is logged, and the producer\'s emit goes on', async (t) => {
  const logged: Array<{ object: object, message: string }> = []
  const logger = { error: (object: object, message: string) => logged.push({ object, message }) } as unknown as FastifyBaseLogger
  const events = new EventEmitter<{ sent: [string] }>()
  const seen: string[] = []
  events.on('sent', guarded(logger, 'metrics', () => { throw new Error('broken consumer') }))
  events.on('sent', (value) => seen.push(value))

  t.doesNotThrow(() => events.emit('sent', 'A'))
  t.same(seen, ['A'], 'later listeners still run')
  t.equal(logged.length, 1)
  t.match(logged[0], { object: { consumer: 'metrics', err: { message: 'broken consumer' } }, message: 'event listener failed' })
})
