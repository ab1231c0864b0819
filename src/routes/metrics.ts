import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { getMetricsDescription } from '../../schemas/metrics.js'

const metricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['system'],
      summary: 'Prometheus metrics',
      description: getMetricsDescription,
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
