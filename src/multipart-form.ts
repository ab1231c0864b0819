import type { FastifyError, FastifyRequest } from 'fastify'
import { errors } from './errors.js'

// One file, a few short text fields: all a media message needs, so anything bigger is refused
// before it is read.
export function multipartLimits (maxFileBytes: number) {
  return { fileSize: maxFileBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 20 } as const
}
export type MultipartLimits = ReturnType<typeof multipartLimits>

export interface MultipartForm {
  // Text fields by name (a name sent twice becomes a list, which the route's schema refuses); a
  // file part's field holds its file name, so the body validates against a plain JSON schema.
  fields: Record<string, string | string[]>
  // The part named `file`, read into memory (bounded by fileSize): nothing is written to disk.
  file?: { bytes: Buffer, fileName: string }
}

// Reads a multipart/form-data request (@fastify/multipart's request.parts()) and turns every way
// it can fail into one of our errors.
export async function readMultipartForm (request: FastifyRequest, limits: MultipartLimits): Promise<MultipartForm> {
  const form: MultipartForm = { fields: {} }
  function add (name: string, value: string): void {
    const existing = form.fields[name]
    form.fields[name] = existing === undefined ? value : [existing, value].flat()
  }
  try {
    for await (const part of request.parts({ limits })) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer()
        if (part.fieldname === 'file') form.file = { bytes, fileName: part.filename }
        add(part.fieldname, part.filename)
      } else {
        if (part.valueTruncated) throw new errors.MULTIPART_FIELD_TOO_LARGE(part.fieldname, limits.fieldSize)
        add(part.fieldname, String(part.value))
      }
    }
  } catch (error) {
    throw toMultipartError(error as FastifyError, limits)
  }
  return form
}

export function toMultipartError (error: FastifyError, limits: MultipartLimits): Error {
  switch (error.code) {
    case 'FST_REQ_FILE_TOO_LARGE': return new errors.FILE_TOO_LARGE(limits.fileSize)
    case 'FST_FILES_LIMIT': return new errors.MULTIPART_TOO_MANY_FILES()
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT': return new errors.MULTIPART_TOO_MANY_PARTS(limits.fields, limits.files)
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
    case 'FST_MP_PREMATURE_CLOSE': return new errors.MULTIPART_INVALID()
  }
  if (error.code !== undefined && error.code in errors) return error
  // The parser (busboy) reports a missing or wrong boundary and a cut-off body as plain Errors
  // without a code; a TypeError or the like would be our bug and stays a 500.
  if (error.name === 'Error' && error.code === undefined && error.statusCode === undefined) return new errors.MULTIPART_INVALID()
  return error
}
