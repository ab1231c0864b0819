import { readFile } from 'node:fs/promises'
import t from 'tap'
import { validate } from '@readme/openapi-parser'
import { generateOpenApiDocument, serializeOpenApiDocument } from '../src/openapi.js'

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
