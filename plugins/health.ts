import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { HealthCheckResults, HealthStatus } from '../schemas/system.js'

// The checks are the ones schemas/system.ts names, each answering with its own schema's fields.
export type HealthCheckName = keyof HealthCheckResults
export type HealthCheck<Name extends HealthCheckName> = () => HealthCheckResults[Name] | Promise<HealthCheckResults[Name]>
type HealthCheckResult = HealthCheckResults[HealthCheckName]

export interface HealthChecks {
  add: <Name extends HealthCheckName>(name: Name, check: HealthCheck<Name>) => void
  run: () => Promise<{ status: HealthStatus, checks: HealthCheckResults }>
}

declare module 'fastify' {
  interface FastifyInstance {
    healthChecks: HealthChecks
  }
}

async function runCheck (check: HealthCheck<HealthCheckName>): Promise<HealthCheckResult> {
  try {
    return await check()
  } catch (error) {
    return { status: 'degraded', error: (error as Error).message }
  }
}

// Other plugins (session registry, webhooks) add their part; one degraded part degrades the whole,
// and a check that throws counts as degraded rather than failing the health endpoint. The checks
// run at the same time: on Redis several of them wait for a round trip, and the answer waits for
// the slowest one rather than for all of them in a row.
export function createHealthChecks (): HealthChecks {
  const checks = new Map<HealthCheckName, HealthCheck<HealthCheckName>>()
  return {
    add (name, check) {
      if (checks.has(name)) throw new Error(`health check ${name} is already registered`)
      checks.set(name, check)
    },
    async run () {
      const names = [...checks.keys()]
      const settled = await Promise.all([...checks.values()].map(runCheck))
      const results: Partial<Record<HealthCheckName, HealthCheckResult>> = {}
      names.forEach((name, index) => { results[name] = settled[index]! })
      const degraded = settled.some((result) => result.status !== 'ok')
      // Complete once buildApp has registered its plugins, which add every check the schema names
      // (test/health-schema.test.ts checks that).
      return { status: degraded ? 'degraded' : 'ok', checks: results as HealthCheckResults }
    }
  }
}

async function healthPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('healthChecks', createHealthChecks())
}

export default fp(healthPlugin, { name: 'health', fastify: '5.x' })
