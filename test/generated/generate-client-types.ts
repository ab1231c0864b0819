import openapiTS, { astToString } from 'openapi-typescript'

// Types for openapi-fetch, made by the standard generator from the committed document.
export async function generateClientTypes (documentFile: URL): Promise<string> {
  return astToString(await openapiTS(documentFile))
}
