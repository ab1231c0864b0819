import type { FastifyBaseLogger } from 'fastify'

// Listeners of service events run inside the producer's emit(): one that threw would break a send
// or a session's connection handling, so a consumer's mistake is logged instead.
export function guarded<Arguments extends unknown[]> (
  logger: FastifyBaseLogger,
  consumer: string,
  listener: (...args: Arguments) => void
): (...args: Arguments) => void {
  return (...args) => {
    try {
      listener(...args)
    } catch (error) {
      logger.error({ err: error, consumer }, 'event listener failed')
    }
  }
}
