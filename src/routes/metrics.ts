import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'

const metricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['system'],
      summary: 'Prometheus metrics',
      description: 'Prometheus text format: otp_sent_total, otp_verified_total{result}, messages_sent_total{type,result}, http_request_duration_seconds{method,route,status_code}, sessions{state}, session_reconnects_total{reason}, webhook_deliveries_total{result}, and the Node.js process defaults. Needs the API key like every other route: give the scraper the key as a bearer token.',
      produces: ['text/plain'],
      response: {
        200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...errorResponses(401, 429)
      }
    }
  }, async (_request, reply) => {
    const { registry } = fastify.metrics
    return await reply.type(registry.contentType).header('cache-control', 'no-store').send(await registry.metrics())
  })
}

export default metricsRoutes
