import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ErrorResponse } from '../schemas/common.js'
import { Session } from '../schemas/sessions.js'
import { packageInfo } from '../src/package-info.js'

// Where a generated client calls by default: PUBLIC_URL (with any path a reverse proxy adds), or
// the service on its own port. An absolute URL, because SDK generators read the document from a
// file, where a relative server has nothing to resolve against.
export function documentServers (publicUrl: string | undefined, port: number): Array<{ url: string, description: string }> {
  return publicUrl === undefined
    ? [{ url: `http://localhost:${port}`, description: 'The service on this machine (set PUBLIC_URL to publish its public address)' }]
    : [{ url: publicUrl.replace(/\/+$/, ''), description: 'PUBLIC_URL' }]
}

// Swagger UI resolves a relative server against the address it loaded the document from
// (…/docs/json), so ".." is the service's root wherever the browser reached it: directly, or
// behind a proxy that publishes it under a path. The absolute servers follow as alternatives.
export const docsServer = { url: '..', description: 'This service, where these docs were loaded from' }

async function swaggerPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addSchema(ErrorResponse)
  fastify.addSchema(Session)
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      servers: documentServers(fastify.config.publicUrl, fastify.config.port),
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
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    // The page at /docs (no trailing slash) links its scripts from "<indexPrefix>/docs/static":
    // "." keeps that relative, so it loads under a proxy's path too.
    indexPrefix: '.',
    transformSpecification: (document) => ({ ...document, servers: [docsServer, ...(document.servers ?? [])] })
  })
}

export default fp(swaggerPlugin, { name: 'swagger', fastify: '5.x' })
