import { writeFile } from 'node:fs/promises'
import { generateOpenApiDocument, serializeOpenApiDocument } from '../src/openapi.js'
import { generateClientTypes } from '../test/generated/generate-client-types.js'

// The document from the running schemas, then the typed client generated from that document.
const documentFile = new URL('../openapi/openapi.json', import.meta.url)
await writeFile(documentFile, serializeOpenApiDocument(await generateOpenApiDocument()))
process.stdout.write(`wrote ${documentFile.pathname}\n`)

const typesFile = new URL('../test/generated/openapi-types.ts', import.meta.url)
await writeFile(typesFile, await generateClientTypes(documentFile))
process.stdout.write(`wrote ${typesFile.pathname}\n`)
