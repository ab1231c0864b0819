import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthResponse, RootResponse } from '../../schemas/system.js'
import { errorResponses } from '../../schemas/common.js'
import { packageInfo } from '../package-info.js'

const systemRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    config: { public: true },
    schema: {
      tags: ['system'],
      summary: 'Service information',
      description: 'Name, version and links to the API documentation and health endpoint. No API key needed.',
      security: [],
      response: { 200: RootResponse, ...errorResponses(429) }
    }
  }, async () => ({
    success: true as const,
    data: {
      name: packageInfo.name,
      version: packageInfo.version,
      description: packageInfo.description,
      links: { docs: '/docs', openapi: '/docs/json', health: '/api/health' }
    }
  }))

  fastify.get('/api/health', {
    config: { public: true },
    schema: {
      tags: ['system'],
      summary: 'Health check',
      description: 'Overall status (ok or degraded), uptime, memory and the checks other parts of the service report (sessions, webhooks). No API key needed; answers 200 even when degraded so a load balancer can read the body.',
      security: [],
      response: { 200: HealthResponse, ...errorResponses(429) }
    }
  }, async () => {
    const { status, checks } = await fastify.healthChecks.run()
    const memory = process.memoryUsage()
    return {
      success: true as const,
      data: {
        status,
        version: packageInfo.version,
        uptimeSeconds: Math.round(process.uptime()),
        memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
        checks
      }
    }
  })
}

export default systemRoutes
