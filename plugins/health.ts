import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

export interface HealthCheckResult {
  status: 'ok' | 'degraded'
  [detail: string]: unknown
}

export type HealthCheck = () => HealthCheckResult | Promise<HealthCheckResult>

export interface HealthChecks {
  add: (name: string, check: HealthCheck) => void
  run: () => Promise<{ status: 'ok' | 'degraded', checks: Record<string, HealthCheckResult> }>
}

declare module 'fastify' {
  interface FastifyInstance {
    healthChecks: HealthChecks
  }
}

async function runCheck (check: HealthCheck): Promise<HealthCheckResult> {
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
  const checks = new Map<string, HealthCheck>()
  return {
    add (name, check) {
      if (checks.has(name)) throw new Error(`health check ${name} is already registered`)
      checks.set(name, check)
    },
    async run () {
      const names = [...checks.keys()]
      const settled = await Promise.all([...checks.values()].map(runCheck))
      const results: Record<string, HealthCheckResult> = {}
      names.forEach((name, index) => { results[name] = settled[index]! })
      const degraded = settled.some((result) => result.status !== 'ok')
      return { status: degraded ? 'degraded' : 'ok', checks: results }
    }
  }
}

async function healthPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('healthChecks', createHealthChecks())
}

export default fp(healthPlugin, { name: 'health', fastify: '5.x' })
