import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'

export type PreValidationHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

// For a hook only some routes need, added from an onRoute hook: a hook on every route would cost
// every request a step for nothing. Keeps the route's own hooks, before this one.
export function addPreValidation (routeOptions: RouteOptions, hook: PreValidationHook): void {
  const own = routeOptions.preValidation ?? []
  routeOptions.preValidation = [...(Array.isArray(own) ? own : [own]), hook]
}
