import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { TSchema } from 'typebox'
import * as common from '../schemas/common.js'
import * as messageStatus from '../schemas/message-status.js'
import * as messages from '../schemas/messages.js'
import * as otp from '../schemas/otp.js'
import * as sessions from '../schemas/sessions.js'
import * as system from '../schemas/system.js'
import * as webhooks from '../schemas/webhooks.js'

// Every exported schema with an $id: request and response bodies and the parts they share by
// reference. Routes validate with them and the OpenAPI document names them in components.schemas.
export function namedSchemas (): TSchema[] {
  return [common, messageStatus, messages, otp, sessions, system, webhooks]
    .flatMap((module) => Object.values(module) as unknown[])
    .filter((value): value is TSchema & { $id: string } =>
      typeof value === 'object' && value !== null && typeof (value as { $id?: unknown }).$id === 'string')
}

async function schemasPlugin (fastify: FastifyInstance): Promise<void> {
  for (const schema of namedSchemas()) fastify.addSchema(schema)
}

export default fp(schemasPlugin, { name: 'schemas', fastify: '5.x' })
