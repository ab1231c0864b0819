import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { createLoggers } from '../src/logger.js'

export const testApiKey = 'test-api-key-0123456789'

export interface TestContext {
  teardown: (fn: () => unknown) => void
}

export interface BuildOptions {
  env?: Record<string, string>
  directory?: string
  // Runs before ready(): lets a test add a route that exercises a shared mechanism (error handler).
  beforeReady?: (app: FastifyInstance) => void | Promise<void>
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  directory: string
  readAppLog: () => Promise<string>
}

export async function temporaryDirectory (t: TestContext, prefix = 'otp-api-test-'): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(directory, { recursive: true, force: true }))
  return directory
}

export function testConfig (directory: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    API_KEY: testApiKey,
    AUTH_STATE_DIR: join(directory, 'auth_state'),
    LOG_DIR: join(directory, 'logs'),
    DATA_DIR: join(directory, 'data'),
    LOG_LEVEL: 'info',
    WA_LOG_LEVEL: 'warn',
    ...env
  })
}

// Builds the real app on temporary folders and closes it when the test ends.
export async function build (t: TestContext, options: BuildOptions = {}): Promise<TestApp> {
  const directory = options.directory ?? await temporaryDirectory(t)
  const config = testConfig(directory, options.env)
  const loggers = createLoggers(config, { stdout: false })
  const app = await buildApp(config, { loggers })
  t.teardown(() => app.close())
  if (options.beforeReady !== undefined) await options.beforeReady(app)
  await app.ready()
  return {
    app,
    config,
    directory,
    readAppLog: async () => {
      await loggers.flush().catch(() => {})
      return await readFile(join(config.logDirectory, 'app.log'), 'utf8')
    }
  }
}

export const authHeaders = { 'x-api-key': testApiKey }
