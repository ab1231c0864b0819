import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import multipart from '@fastify/multipart'
import type { FastifyRequest } from 'fastify'
import { errorResponses, SessionIdParams } from '../../schemas/common.js'
import {
  FormatPhoneParams,
  FormatPhoneResponse,
  SendMediaBody,
  SendMediaResponse,
  SendTextBody,
  SendTextResponse,
  formatPhoneDescription,
  sendTextDescription,
  sendMediaDescription
} from '../../schemas/messages.js'
import { errors } from '../errors.js'
import { detectMediaType } from '../media-type.js'
import { multipartLimits, readMultipartForm, type MultipartForm } from '../multipart-form.js'
import { normalizePhoneNumber } from '../phone-number.js'

// The name a document arrives with: the client's name, minus any folders, with the extension of
// the type the bytes really are.
function fileNameFor (clientFileName: string, extension: string): string {
  const base = clientFileName.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '').trim()
  return `${base === '' ? 'file' : base}.${extension}`
}

const messageRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/api/messages/format-phone/:phone', {
    schema: {
      operationId: 'formatPhone',
      tags: ['messages'],
      summary: 'Check and format a phone number',
      description: formatPhoneDescription,
      params: FormatPhoneParams,
      response: { 200: FormatPhoneResponse, ...errorResponses(400, 401, 429) }
    }
  }, async (request) => ({ success: true as const, data: normalizePhoneNumber(request.params.phone) }))

  fastify.post('/api/messages/:sessionId/text', {
    config: { sessionSocket: true },
    schema: {
      operationId: 'sendText',
      tags: ['messages'],
      summary: 'Send a text message',
      description: sendTextDescription,
      params: SessionIdParams,
      body: SendTextBody,
      response: { 200: SendTextResponse, ...errorResponses(400, 401, 404, 409, 422, 429, 502, 503) }
    }
  }, async (request) => {
    const sent = await fastify.messageSender.sendText(request.params.sessionId, request.body.to, request.body.message)
    return { success: true as const, message: 'Pesan berhasil dikirim', data: sent }
  })

  // Only the media route reads multipart; every other route takes JSON alone.
  const mediaRoutes: FastifyPluginAsyncTypebox = async (media) => {
    const limits = multipartLimits(media.config.mediaMaxBytes)
    // Uploads stay in memory (bounded by MEDIA_MAX_BYTES) and are gone with the request: nothing is
    // ever written to disk, so no failure path can leave a file behind.
    const uploads = new WeakMap<FastifyRequest, NonNullable<MultipartForm['file']>>()
    await media.register(multipart)
    // The form is read here rather than by the plugin's attachFieldsToBody, so a broken body or a
    // reached limit answers with our codes (the parser's own errors would be a 500 or English words).
    media.addHook('preValidation', async (request) => {
      if (!request.isMultipart()) return
      const form = await readMultipartForm(request, limits)
      if (form.file !== undefined) uploads.set(request, form.file)
      request.body = form.fields
    })

    media.post('/api/messages/:sessionId/media', {
      config: { sessionSocket: true },
      schema: {
        operationId: 'sendMedia',
        tags: ['messages'],
        summary: 'Send an image, video, audio or document',
        description: sendMediaDescription,
        consumes: ['multipart/form-data'],
        params: SessionIdParams,
        body: SendMediaBody,
        response: { 200: SendMediaResponse, ...errorResponses(400, 401, 404, 409, 413, 415, 422, 429, 502, 503) }
      }
    }, async (request) => {
      const upload = uploads.get(request)
      if (upload === undefined) throw new errors.FILE_REQUIRED()
      const type = await detectMediaType(upload.bytes, upload.fileName)
      const fileName = fileNameFor(upload.fileName, type.extension)
      const { caption } = request.body
      const sent = await media.messageSender.sendMedia(request.params.sessionId, request.body.to, {
        kind: type.kind,
        bytes: upload.bytes,
        mimetype: type.mimetype,
        fileName,
        ...(caption === undefined ? {} : { caption })
      })
      return {
        success: true as const,
        message: 'File berhasil dikirim',
        data: { ...sent, kind: type.kind, mimetype: type.mimetype, fileName, size: upload.bytes.length }
      }
    })
  }
  await fastify.register(mediaRoutes)
}

export default messageRoutes
