import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthResponse, ServiceInfoResponse, getServiceInfoDescription, getHealthDescription } from '../../schemas/system.js'
import { errorResponses } from '../../schemas/common.js'
import { packageInfo } from '../package-info.js'
import { recentMemoryUsage } from '../memory-usage.js'
import { publicUrlFor } from '../public-url.js'

const systemRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // Absolute under PUBLIC_URL when set; otherwise relative to this root, so they stay right
  // when a reverse proxy publishes the service under a path of its own.
  const { publicUrl } = fastify.config
  const link = (path: string): string => publicUrl === undefined ? path : publicUrlFor(publicUrl, path)
  const memoryUsage = recentMemoryUsage()

  fastify.get('/', {
    config: { public: true },
    schema: {
      operationId: 'getServiceInfo',
      tags: ['system'],
      summary: 'Service information',
      description: getServiceInfoDescription,
      security: [],
      response: { 200: ServiceInfoResponse, ...errorResponses(429) }
    }
  }, async () => ({
    success: true as const,
    data: {
      name: packageInfo.name,
      version: packageInfo.version,
      description: packageInfo.description,
      links: {
        docs: link('docs'),
        openapi: link('docs/json'),
        health: link('api/health')
      }
    }
  }))

  fastify.get('/api/health', {
    config: { public: true },
    schema: {
      operationId: 'getHealth',
      tags: ['system'],
      summary: 'Health check',
      description: getHealthDescription,
      security: [],
      response: { 200: HealthResponse, ...errorResponses(429) }
    }
  }, async () => {
    const { status, checks } = await fastify.healthChecks.run()
    const clusterStatus = await fastify.instanceRouter.clusterStatus()
    return {
      success: true as const,
      data: {
        status,
        version: packageInfo.version,
        uptimeSeconds: Math.round(process.uptime()),
        memory: memoryUsage(),
        checks,
        ...clusterStatus
      }
    }
  })
}

export default systemRoutes
