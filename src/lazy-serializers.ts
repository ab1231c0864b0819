import SerializerSelector, { type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

// Fastify's own response serializers (fast-json-stringify), each built when its route first
// answers with that status instead of at start. Building all of them (every route, every error
// status, and the HEAD twin of every GET) was the largest single cost of starting the service,
// and most of them are never used by a given deployment.
export function lazySerializerFactory (build: SerializerFactory = SerializerSelector()): SerializerFactory {
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options)
    return (route) => {
      let serialize: ((document: unknown) => string) | undefined
      return (document) => (serialize ??= compile(route))(document)
    }
  }
}
