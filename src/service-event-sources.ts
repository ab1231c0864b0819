import type { EventEmitter } from 'node:events'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { MessageSenderEventMap, OtpEventMap } from './service-events.js'

// The message-sender and otp plugins are optional for their consumers (webhooks, message status,
// metrics): those subscribe once the app is ready, when every decorator that will exist does,
// and skip a producer that is not there. The decorators' own types live with their plugins.
function eventsOf<EventMap extends Record<keyof EventMap, unknown[]>> (fastify: FastifyInstance, decorator: string): EventEmitter<EventMap> | undefined {
  if (!fastify.hasDecorator(decorator)) return undefined
  const producer = (fastify as unknown as Record<string, { events?: EventEmitter<EventMap> } | undefined>)[decorator]
  return producer?.events
}

export function messageSenderEvents (fastify: FastifyInstance): EventEmitter<MessageSenderEventMap> | undefined {
  return eventsOf<MessageSenderEventMap>(fastify, 'messageSender')
}

export function otpEvents (fastify: FastifyInstance): EventEmitter<OtpEventMap> | undefined {
  return eventsOf<OtpEventMap>(fastify, 'otp')
}

// Listeners run inside the producer's emit(): one that threw would break a send or a session's
// connection handling, so a consumer's mistake is logged instead.
export function guarded<Arguments extends unknown[]> (logger: FastifyBaseLogger, consumer: string, listener: (...args: Arguments) => void): (...args: Arguments) => void {
  return (...args) => {
    try {
      listener(...args)
    } catch (error) {
      logger.error({ err: error, consumer }, 'event listener failed')
    }
  }
}
