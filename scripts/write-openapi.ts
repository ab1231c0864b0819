import { writeFile } from 'node:fs/promises'
import { generateOpenApiDocument, serializeOpenApiDocument } from '../src/openapi.js'

const target = new URL('../openapi/openapi.json', import.meta.url)
await writeFile(target, serializeOpenApiDocument(await generateOpenApiDocument()))
process.stdout.write(`wrote ${target.pathname}\n`)
