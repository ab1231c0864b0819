import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { SentMessageType } from '../src/events.js'
import { sessionStatuses } from '../src/session-status.js'
import type { SessionRegistry } from './session-registry.js'

export interface Metrics {
  registry: Registry
  // The only way to move otp_sent_total and messages_sent_total: each also moves the total the
  // health check reads, so /api/health never has to collect the counters (prom-client's get()).
  countOtpSent: () => void
  countMessage: (type: SentMessageType, result: 'sent' | 'failed') => void
  otpVerified: Counter<'result'>
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>
  sessions: Gauge<'state'>
  sessionReconnects: Counter<'reason'>
  webhookDeliveries: Counter<'result'>
  sessionRestrictionChanges: Counter<'change'>
  // The monitoring counters of the troubleshooting guide (best practices 4), since start.
  troubleshootingGuideCounters: () => { totalOTPSent: number, failedRequests: number, activeSessions: number }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

// Each app has its own registry, so several apps in one process (tests) never share counters.
export function createMetrics (sessions: Pick<SessionRegistry, 'counts'>): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const otpSent = new Counter({ name: 'otp_sent_total', help: 'OTP messages sent', registers })
  const messagesSent = new Counter({ name: 'messages_sent_total', help: 'Messages sent (text, media, otp), by result: sent or failed', labelNames: ['type', 'result'] as const, registers })
  const sessionsByState = new Gauge({
    name: 'sessions',
    help: 'Sessions by state',
    labelNames: ['state'] as const,
    registers,
    collect () {
      const { byStatus } = sessions.counts()
      // Every state is reported, zeros included, so a dashboard's series never vanish.
      for (const state of sessionStatuses) this.set({ state }, byStatus[state] ?? 0)
    }
  })
  let totalOtpSent = 0
  let totalFailedMessages = 0
  return {
    registry,
    countOtpSent () {
      otpSent.inc()
      totalOtpSent++
    },
    countMessage (type, result) {
      messagesSent.inc({ type, result })
      if (result === 'failed') totalFailedMessages++
    },
    otpVerified: new Counter({ name: 'otp_verified_total', help: 'OTP verifications, by result: valid, invalid, expired, too_many_attempts or not_found', labelNames: ['result'] as const, registers }),
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request durations, by route pattern',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers
    }),
    sessions: sessionsByState,
    sessionReconnects: new Counter({ name: 'session_reconnects_total', help: 'Reconnects of WhatsApp sessions, by reason: restart-required (normal after linking) or connection-lost', labelNames: ['reason'] as const, registers }),
    webhookDeliveries: new Counter({ name: 'webhook_deliveries_total', help: 'Webhook delivery attempts, by result: delivered, retry or failed', labelNames: ['result'] as const, registers }),
    sessionRestrictionChanges: new Counter({ name: 'session_restriction_changes_total', help: 'Restrictions on new chats that began (restricted) or ended (lifted)', labelNames: ['change'] as const, registers }),
    troubleshootingGuideCounters () {
      return { totalOTPSent: totalOtpSent, failedRequests: totalFailedMessages, activeSessions: sessions.counts().connected }
    }
  }
}

async function metricsPlugin (fastify: FastifyInstance): Promise<void> {
  const metrics = createMetrics(fastify.sessions)
  fastify.decorate('metrics', metrics)

  // Callback style: an async hook would cost a promise on every request.
  fastify.addHook('onResponse', (request, reply, done) => {
    // The pattern (/api/sessions/:sessionId), never the raw URL: one series per route, not per id.
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.httpRequestDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })
  fastify.healthChecks.add('counters', () => {
    const { totalOTPSent, failedRequests, activeSessions } = metrics.troubleshootingGuideCounters()
    return { status: 'ok', totalOTPSent, failedRequests, activeSessions }
  })
  fastify.addHook('onClose', async () => {
    metrics.registry.clear()
  })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x', dependencies: ['health', 'session-registry'] })
