import { readFile } from 'node:fs/promises'
import t from 'tap'
import { validate } from '@readme/openapi-parser'
import { generateOpenApiDocument, serializeOpenApiDocument } from '../src/openapi.js'
import { referToNamedSchemas, withBodyExamples } from '../plugins/swagger.js'

const committedPath = new URL('../openapi/openapi.json', import.meta.url)

t.test('the committed openapi.json is what the code generates (run `npm run openapi`)', async (t) => {
  const generated = serializeOpenApiDocument(await generateOpenApiDocument())
  const committed = await readFile(committedPath, 'utf8')
  t.equal(committed, generated)
})

t.test('the document is valid OpenAPI 3', async (t) => {
  const document = JSON.parse(await readFile(committedPath, 'utf8'))
  const result = await validate(structuredClone(document))
  t.ok(result.valid, result.valid ? 'valid' : JSON.stringify(result.errors))
  t.match(document.openapi, /^3\./)
  const broken = structuredClone(document)
  broken.paths['/'].get.responses = 'none'
  t.notOk((await validate(broken)).valid, 'the validator does reject a broken document')
})

type Operation = { tags?: string[], summary?: string, description?: string, responses?: Record<string, unknown>, security?: unknown[] }

t.test('every operation is documented, errors and security included', async (t) => {
  const document = JSON.parse(await readFile(committedPath, 'utf8')) as { paths: Record<string, Record<string, Operation>>, security: unknown[] }
  t.ok(Object.keys(document.paths).length > 0)
  t.same(document.security, [{ apiKey: [] }, { bearer: [] }])
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const name = `${method.toUpperCase()} ${path}`
      t.ok(operation.tags !== undefined && operation.tags.length > 0, `${name} has tags`)
      t.ok(operation.summary, `${name} has a summary`)
      t.ok(operation.description, `${name} has a description`)
      const statuses = Object.keys(operation.responses ?? {})
      t.ok(statuses.some((status) => status.startsWith('2')), `${name} documents its success response`)
      t.ok(statuses.some((status) => status.startsWith('4')), `${name} documents its error responses`)
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0
      if (!isPublic) t.ok(statuses.includes('401'), `${name} documents 401 for a missing key`)
    }
  }
})

interface MediaType { schema?: { $ref?: string, type?: string } }
interface DocumentedOperation {
  operationId?: string
  requestBody?: { content?: Record<string, MediaType> }
  responses?: Record<string, { description?: string, content?: Record<string, MediaType> }>
}

async function committedOperations (): Promise<Array<{ name: string, operation: DocumentedOperation }>> {
  const document = JSON.parse(await readFile(committedPath, 'utf8')) as { paths: Record<string, Record<string, DocumentedOperation>> }
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })))
}

// Generated clients name their methods after operationId: without one they are named from the path.
t.test('every operation has a unique camelCase operationId', async (t) => {
  const operations = await committedOperations()
  const ids = operations.map(({ name, operation }) => {
    t.match(operation.operationId, /^[a-z][A-Za-z0-9]*$/, `${name} has a camelCase operationId`)
    return operation.operationId
  })
  t.equal(new Set(ids).size, ids.length, 'no two operations share an operationId')
  t.ok(ids.includes('sendOtp') && ids.includes('verifyOtp') && ids.includes('getSessionQrPng'))
})

// A body given inline becomes an anonymous type in a generated client; a named schema keeps its name.
t.test('every JSON request body and 2xx/4xx JSON response is a named component schema', async (t) => {
  for (const { name, operation } of await committedOperations()) {
    for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
      t.match(media.schema?.$ref, /^#\/components\/schemas\/[A-Za-z]+$/, `${name} request body (${type}) is a named schema`)
    }
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (!/^[24]/.test(status)) continue
      const media = response.content?.['application/json']
      if (media !== undefined) t.match(media.schema?.$ref, /^#\/components\/schemas\/[A-Za-z]+$/, `${name} ${status} is a named schema`)
    }
  }
})

t.test('every response is described', async (t) => {
  for (const { name, operation } of await committedOperations()) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      const described = response.description !== undefined && response.description !== '' && response.description !== 'Default Response'
      t.ok(described, `${name} ${status} has its own description`)
    }
  }
})

// The QR as JSON and as an image are separate operations, so a generated client types each answer.
t.test('the QR image has an operation of its own that answers image/png only', async (t) => {
  const operations = await committedOperations()
  const png = operations.find(({ name }) => name === 'GET /api/sessions/{sessionId}/qr.png')?.operation
  t.same(Object.keys(png?.responses?.['200']?.content ?? {}), ['image/png'])
  t.same(Object.keys(png?.responses?.['404']?.content ?? {}), ['application/json'], 'its errors are JSON')
})

t.test('referToNamedSchemas refers only to registered schemas and keeps a response\'s description', async (t) => {
  const registered = { Named: {} }
  t.equal(referToNamedSchemas(undefined, registered), undefined, 'a route without a schema stays without one')
  const schema = referToNamedSchemas({
    body: { $id: 'Named', type: 'object' },
    response: {
      200: { $id: 'Named', description: 'It worked', type: 'object' },
      201: { $id: 'Unregistered', type: 'object' },
      202: { description: 'Either', content: { 'application/json': { schema: { $id: 'Named' } }, 'image/png': { schema: { type: 'string' } } } }
    }
  }, registered)
  t.same(schema.body, { $ref: 'Named' })
  t.same(schema.response?.[200], { $ref: 'Named', description: 'It worked' })
  t.same(schema.response?.[201], { $id: 'Unregistered', type: 'object' }, 'an unregistered $id stays inline')
  t.same(schema.response?.[202], { description: 'Either', content: { 'application/json': { schema: { $ref: 'Named' } }, 'image/png': { schema: { type: 'string' } } } })
})

t.test('withBodyExamples gives a referenced body its schema\'s first example, never over its own', async (t) => {
  const document: Parameters<typeof withBodyExamples>[0] = withBodyExamples({
    paths: {
      '/a': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/A' } } } } } },
      '/b': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/A' }, example: { own: true } } } } } },
      '/c': { get: {} }
    },
    components: { schemas: { A: { examples: [{ first: true }, { second: true }] } } }
  })
  t.same(document.paths?.['/a']?.post?.requestBody?.content?.['application/json']?.example, { first: true })
  t.same(document.paths?.['/b']?.post?.requestBody?.content?.['application/json']?.example, { own: true })
})
