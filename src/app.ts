import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { fieldErrorKeyword } from './errors.js'
import { lazySerializerFactory } from './lazy-serializers.js'
import { createLoggers, RequestLogController, requestLoggerFactory, type Loggers } from './logger.js'
import errorHandler, { replyWithFrameworkError } from '../plugins/error-handler.js'
import requestBodies from '../plugins/request-bodies.js'
import auth from '../plugins/auth.js'
import rateLimit from '../plugins/rate-limit.js'
import schemas from '../plugins/schemas.js'
import swagger from '../plugins/swagger.js'
import health from '../plugins/health.js'
import stateStore from '../plugins/state-store.js'
import whatsappVersion from '../plugins/whatsapp-version.js'
import transport, { bundledWhatsAppVersion } from '../plugins/transport.js'
import sessionRegistry from '../plugins/session-registry.js'
import instanceRouter from '../plugins/instance-router.js'
import qrLinks from '../plugins/qr-links.js'
import messageSender from '../plugins/message-sender.js'
import otp from '../plugins/otp.js'
import messageStatus from '../plugins/message-status.js'
import webhooks from '../plugins/webhooks.js'
import metrics from '../plugins/metrics.js'
import eventWiring from '../plugins/event-wiring.js'
import restrictions from '../plugins/restrictions.js'
import verifications from '../plugins/verifications.js'
import senderPool from '../plugins/sender-pool.js'
import systemRoutes from './routes/system.js'
import sessionRoutes from './routes/sessions.js'
import messageRoutes from './routes/messages.js'
import otpRoutes from './routes/otp.js'
import webhookRoutes from './routes/webhooks.js'
import messageStatusRoutes from './routes/message-status.js'
import metricsRoutes from './routes/metrics.js'

export interface BuildOptions {
  // Tests pass loggers that write to files only; the server writes to stdout too.
  loggers?: Loggers
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    whatsappLogger: Loggers['whatsapp']
  }
}

const safeRequestId = /^[A-Za-z0-9._-]{1,64}$/

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const loggers = options.loggers ?? createLoggers(config)
  const requestLog = new RequestLogController(loggers.requests)
  const fastify = Fastify({
    loggerInstance: loggers.app as FastifyBaseLogger,
    logController: requestLog,
    childLoggerFactory: requestLoggerFactory,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    // A proxy's id is kept only when it is short and safe to echo and log; anything else gets our own.
    requestIdHeader: false,
    genReqId: (request) => {
      const offered = request.headers['x-request-id']
      return typeof offered === 'string' && safeRequestId.test(offered) ? offered : randomUUID()
    },
    // Above every real parameter (session ids are at most 64 characters), so a long id still
    // reaches its route and gets that route's own error; longer ones are a 414 in our envelope.
    routerOptions: { maxParamLength: 512 },
    frameworkErrors: (error, request, reply) => {
      replyWithFrameworkError(error, request, reply)
      requestLog.requestCompleted(null, request, reply)
    },
    // Bodies must arrive with the right JSON types: `{"to": 8123}` is a client bug to report, not to guess.
    // `verbose` puts the failing schema on each issue, where the error handler reads a field's own
    // error code (fieldErrorKeyword), a keyword Ajv must know to accept it.
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory() } },
    ajv: { customOptions: { coerceTypes: false, verbose: true, keywords: [fieldErrorKeyword] } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  fastify.decorate('config', config)
  fastify.decorate('whatsappLogger', loggers.whatsapp)
  // Callback style: an async hook would cost a promise on every request.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id)
    done(null, payload)
  })
  // Registered first, so it runs after every other plugin's onClose and keeps their last lines.
  fastify.addHook('onClose', async () => {
    await loggers.close()
  })

  await fastify.register(errorHandler)
  await fastify.register(requestBodies)
  await fastify.register(auth, { apiKeys: config.apiKeys })
  await fastify.register(rateLimit, {
    max: config.rateLimitMax,
    timeWindowMs: config.rateLimitWindowMs,
    ...(config.redisUrl === undefined
      ? {}
      : { redisUrl: config.redisUrl, redisKeyPrefix: config.redisKeyPrefix, instanceSecret: config.instanceSecret })
  })
  await fastify.register(schemas)
  await fastify.register(swagger)
  await fastify.register(health)
  await fastify.register(stateStore)
  await fastify.register(whatsappVersion, { bundled: bundledWhatsAppVersion })
  await fastify.register(transport)
  await fastify.register(sessionRegistry)
  await fastify.register(instanceRouter)
  await fastify.register(qrLinks)
  await fastify.register(messageSender)
  await fastify.register(otp)
  await fastify.register(messageStatus)
  await fastify.register(webhooks)
  await fastify.register(metrics)
  await fastify.register(restrictions)
  await fastify.register(verifications)
  await fastify.register(senderPool)
  // After every producer and consumer: it lists who listens to whom.
  await fastify.register(eventWiring)

  await fastify.register(systemRoutes)
  await fastify.register(sessionRoutes)
  await fastify.register(messageRoutes)
  await fastify.register(otpRoutes)
  await fastify.register(webhookRoutes)
  await fastify.register(messageStatusRoutes)
  await fastify.register(metricsRoutes)
  return fastify
}
