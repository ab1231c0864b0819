import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
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

type JsonSchema = Record<string, unknown> & { $id?: string, description?: string, content?: Record<string, { schema: JsonSchema }> }
type RouteSchema = { body?: JsonSchema, response?: Record<string, JsonSchema> }

// Routes hold the schema objects themselves (for TypeBox's inference), and @fastify/swagger would
// copy them inline: a body or response that is a registered named schema becomes a reference, so
// it appears once in components.schemas under its name. The response keeps its own description.
export function referToNamedSchemas<Schema extends RouteSchema | undefined> (schema: Schema, registered: Record<string, unknown>): Schema {
  if (schema === undefined) return schema
  const refer = (part: JsonSchema): JsonSchema => {
    if (part.$id !== undefined && registered[part.$id] !== undefined) {
      return { $ref: part.$id, ...(part.description === undefined ? {} : { description: part.description }) }
    }
    // A response with several media types names each one's schema.
    if (part.content === undefined) return part
    const content = Object.fromEntries(Object.entries(part.content)
      .map(([type, media]) => [type, { ...media, schema: refer(media.schema) }]))
    return { ...part, content }
  }
  const response = schema.response === undefined
    ? undefined
    : Object.fromEntries(Object.entries(schema.response).map(([status, part]) => [status, refer(part)]))
  return {
    ...schema,
    ...(schema.body === undefined ? {} : { body: refer(schema.body) }),
    ...(response === undefined ? {} : { response })
  }
}

type MediaType = { schema?: { $ref?: string }, example?: unknown }
type OpenApiObject = {
  paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, MediaType> } }>>
  components?: { schemas?: Record<string, { examples?: unknown[] }> }
}

// A request body given by reference loses the example Swagger UI fills in, so the named schema's
// first example becomes the body's example again.
export function withBodyExamples<Document extends OpenApiObject> (document: Document): Document {
  const schemas = document.components?.schemas ?? {}
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        const name = media.schema?.$ref?.replace('#/components/schemas/', '')
        const examples = name === undefined ? undefined : schemas[name]?.examples
        if (examples !== undefined && examples.length > 0 && media.example === undefined) media.example = examples[0]
      }
    }
  }
  return document
}

async function swaggerPlugin (fastify: FastifyInstance): Promise<void> {
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
    transform: ({ schema, url }) => ({
      schema: referToNamedSchemas(schema as RouteSchema | undefined, fastify.getSchemas()) as typeof schema,
      url
    }),
    transformObject: (documentObject) => 'openapiObject' in documentObject
      ? withBodyExamples(documentObject.openapiObject as OpenApiObject) as typeof documentObject.openapiObject
      : documentObject.swaggerObject,
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

export default fp(swaggerPlugin, { name: 'swagger', fastify: '5.x', dependencies: ['schemas'] })
