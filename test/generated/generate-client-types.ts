import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import { createClient } from '@hey-api/openapi-ts'

// Types for openapi-fetch, made by the standard generator from the committed document.
export async function generateClientTypes (documentFile: URL): Promise<string> {
  return astToString(await openapiTS(documentFile))
}

// A whole SDK (fetch client, types, one function per operationId) from a second generator, the
// one SDK users reported on, pinned in package.json: what it makes of the document must compile.
export async function generateHeyApiClient (documentFile: URL, outputDirectory: string): Promise<void> {
  await createClient({
    input: fileURLToPath(documentFile),
    output: outputDirectory,
    plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
    // A failure fails the test with its message; no log file left in the working tree.
    logs: { level: 'silent', file: false }
  })
}
