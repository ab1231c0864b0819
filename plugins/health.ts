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

// Other plugins (session registry, webhooks) add their part; one degraded part degrades the whole,
// and a check that throws counts as degraded rather than failing the health endpoint.
export function createHealthChecks (): HealthChecks {
  const checks = new Map<string, HealthCheck>()
  return {
    add (name, check) {
      if (checks.has(name)) throw new Error(`health check ${name} is already registered`)
      checks.set(name, check)
    },
    async run () {
      const results: Record<string, HealthCheckResult> = {}
      for (const [name, check] of checks) {
        try {
          results[name] = await check()
        } catch (error) {
          results[name] = { status: 'degraded', error: (error as Error).message }
        }
      }
      const degraded = Object.values(results).some((result) => result.status !== 'ok')
      return { status: degraded ? 'degraded' : 'ok', checks: results }
    }
  }
}

async function healthPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('healthChecks', createHealthChecks())
}

export default fp(healthPlugin, { name: 'health', fastify: '5.x' })
