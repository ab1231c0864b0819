import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { WebhookStatsResponse } from '../../schemas/webhooks.js'

const webhookRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/api/webhook/stats', {
    schema: {
      operationId: 'getWebhookStats',
      tags: ['webhooks'],
      summary: 'Webhook delivery statistics',
      description: 'Whether webhooks are configured, to how many URLs, deliveries delivered and failed (kept across restarts), pending and retrying; and since this process started: per event, the last error and the last successful delivery.',
      response: { 200: WebhookStatsResponse, ...errorResponses(401, 429) }
    }
  }, async () => ({
    success: true as const,
    data: { configured: fastify.webhooks.configured, urlCount: fastify.webhooks.urlCount, ...await fastify.webhooks.stats() }
  }))
}

export default webhookRoutes
