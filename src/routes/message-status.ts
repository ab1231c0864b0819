import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { MessageStatusParams, MessageStatusResponse, getMessageStatusDescription } from '../../schemas/message-status.js'
import { errors } from '../errors.js'

const messageStatusRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/api/messages/:sessionId/status/:messageId', {
    schema: {
      operationId: 'getMessageStatus',
      tags: ['messages'],
      summary: 'Delivery status of a sent message',
      description: getMessageStatusDescription,
      params: MessageStatusParams,
      response: { 200: MessageStatusResponse, ...errorResponses(400, 401, 404, 429, 503) }
    }
  }, async (request) => {
    const { sessionId, messageId } = request.params
    const message = await fastify.messageStatus.get(sessionId, messageId)
    if (message === undefined) throw new errors.MESSAGE_NOT_FOUND(messageId)
    return { success: true as const, data: message }
  })
}

export default messageStatusRoutes
