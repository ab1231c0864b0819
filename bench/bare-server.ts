// The reference for the HTTP figures: a bare Fastify route on the same machine, with a JSON body.
import Fastify from 'fastify'

const app = Fastify()
app.post('/echo', async (request) => ({ success: true, data: request.body }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('bare server listening\n')
