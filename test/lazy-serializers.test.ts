import t from 'tap'
import SerializerSelector, { type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import { lazySerializerFactory } from '../src/lazy-serializers.js'

const schema = { type: 'object', properties: { id: { type: 'string' } } }
const route = { method: 'GET', url: '/things/:id', httpStatus: '200', schema }

function countingFactory (): { factory: SerializerFactory, builds: () => number } {
  const real = SerializerSelector()
  let builds = 0
  return {
    builds: () => builds,
    factory: (externalSchemas, options) => {
      const compile = real(externalSchemas, options)
      return (definition) => {
        builds += 1
        return compile(definition)
      }
    }
  }
}

t.test('a route\'s serializer is built on its first answer, once, not when the route is registered', async (t) => {
  const { factory, builds } = countingFactory()
  const serialize = lazySerializerFactory(factory)({}, {})(route)
  t.equal(builds(), 0)
  t.equal(serialize({ id: 'a', secret: 'dropped' }), '{"id":"a"}')
  t.equal(serialize({ id: 'b' }), '{"id":"b"}')
  t.equal(builds(), 1)
})

t.test('answers exactly what the eager serializer answers, shared schemas included', async (t) => {
  const shared = { Thing: { $id: 'Thing', type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } } }
  const withReference = { ...route, schema: { type: 'object', properties: { data: { $ref: 'Thing#' } } } }
  const document = { data: { name: 'x', count: 3, extra: true } }
  const eager = SerializerSelector()(shared, {})(withReference)
  const lazy = lazySerializerFactory()(shared, {})(withReference)
  t.equal(lazy(document), eager(document))
})

t.test('a schema that cannot be built fails on the answer that needs it', async (t) => {
  const serialize = lazySerializerFactory()({}, {})({ ...route, schema: { $ref: 'Missing#' } })
  t.throws(() => serialize({}))
})
