import t from 'tap'
import { generateOpenApiDocument } from '../src/openapi.js'

// Regression (issue 10, item 17): Swagger UI's example body for create included phoneNumber (the
// phone field's own example), so running it as shown asked for a pairing code instead of a QR.
t.test('the create example is a plain {sessionId}; phoneNumber is documented as the pairing-code option', async (t) => {
  const document = await generateOpenApiDocument() as { paths: Record<string, any>, components: { schemas: Record<string, any> } }
  const media = document.paths['/api/sessions/create'].post.requestBody.content['application/json']
  t.same(media.example, { sessionId: 'test-session' })
  t.equal(media.schema.$ref, '#/components/schemas/CreateSessionBody')
  const body = document.components.schemas.CreateSessionBody
  const phoneNumber = body.properties.phoneNumber
  t.equal(phoneNumber.examples, undefined, 'no example for Swagger UI to fill in')
  t.match(phoneNumber.description, /pairing code instead of a QR/)
  t.same(body.required, ['sessionId'])
})
