import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ErrorResponse } from '../schemas/common.js'
import { Session } from '../schemas/sessions.js'
import { packageInfo } from '../src/package-info.js'

async function swaggerPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addSchema(ErrorResponse)
  fastify.addSchema(Session)
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'WhatsApp OTP API',
        version: packageInfo.version,
        description: packageInfo.description
      },
      tags: [
        { name: 'system', description: 'Service information and health' },
        { name: 'sessions', description: 'Linked WhatsApp accounts' },
        { name: 'messages', description: 'Text, media and OTP messages' },
        { name: 'otp', description: 'One-time password verification' },
        { name: 'webhooks', description: 'Webhook delivery' }
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' }
        }
      },
      security: [{ apiKey: [] }, { bearer: [] }]
    },
    // Shared schemas keep their own names in components.schemas, so generated clients get
    // readable type names instead of def-0, def-1.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => (typeof json.$id === 'string' ? json.$id : `def-${index}`)
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}

export default fp(swaggerPlugin, { name: 'swagger', fastify: '5.x' })
