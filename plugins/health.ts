import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { HealthCheckResults, HealthStatus } from '../schemas/system.js'

// The checks are the ones schemas/system.ts names, each answering with its own schema's fields.
// Each check names its fields in one object literal: spreading another object into a literal
// beside other fields is V8's generic property copy, which made up much of a health answer's cost.
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

function failed (error: unknown): HealthCheckResult {
  return { status: 'degraded', error: (error as Error).message }
}

// Most checks answer at once; only a promise is waited for, since each await is a turn of
// the microtask queue that every health answer would pay.
function runCheck (check: HealthCheck<HealthCheckName>): HealthCheckResult | Promise<HealthCheckResult> {
  try {
    const answer = check()
    return answer instanceof Promise ? answer.catch(failed) : answer
  } catch (error) {
    return failed(error)
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
      const answers: Array<HealthCheckResult | Promise<HealthCheckResult>> = []
      let waiting = false
      for (const check of checks.values()) {
        const answer = runCheck(check)
        answers.push(answer)
        if (answer instanceof Promise) waiting = true
      }
      const settled = waiting ? await Promise.all(answers) : answers as HealthCheckResult[]
      const results: Partial<Record<HealthCheckName, HealthCheckResult>> = {}
      let degraded = false
      let index = 0
      for (const name of checks.keys()) {
        const result = settled[index++]!
        results[name] = result
        if (result.status !== 'ok') degraded = true
      }
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
