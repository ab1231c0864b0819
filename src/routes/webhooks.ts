import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { WebhookStatsResponse, getWebhookStatsDescription } from '../../schemas/webhooks.js'

const webhookRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/api/webhook/stats', {
    schema: {
      operationId: 'getWebhookStats',
      tags: ['webhooks'],
      summary: 'Webhook delivery statistics',
      description: getWebhookStatsDescription,
      response: { 200: WebhookStatsResponse, ...errorResponses(401, 429) }
    }
  }, async () => ({
    success: true as const,
    data: { configured: fastify.webhooks.configured, urlCount: fastify.webhooks.urlCount, ...await fastify.webhooks.stats() }
  }))
}

export default webhookRoutes
