import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import { createLoggers } from './logger.js'

// The document is built from the running schemas on embedded defaults, in a throwaway folder,
// so it is the same on every machine and never touches the real auth_state.
export async function generateOpenApiDocument (): Promise<Record<string, unknown>> {
  const directory = await mkdtemp(join(tmpdir(), 'openapi-'))
  try {
    const config = loadConfig({
      AUTH_STATE_DIR: join(directory, 'auth_state'),
      LOG_DIR: join(directory, 'logs'),
      DATA_DIR: join(directory, 'data'),
      LOG_LEVEL: 'silent'
    })
    const app = await buildApp(config, { loggers: createLoggers(config, { stdout: false }) })
    try {
      await app.ready()
      return app.swagger() as unknown as Record<string, unknown>
    } finally {
      await app.close()
    }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

export function serializeOpenApiDocument (document: Record<string, unknown>): string {
  return JSON.stringify(document, null, 2) + '\n'
}
