import t from 'tap'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'

// End to end on the simulator: the real Baileys, a restricted account refused with 463.
const { app, simulator } = await buildWithSimulator(t)
const account = '6281200000901'
await linkSession(app, simulator, 'restricted', account)

let nextRecipient = 6281390000001
function newRecipient (): string {
  const phone = String(nextRecipient++)
  simulator.addContact(phone)
  return phone
}

t.test('a refused OTP is a 503 SENDER_RESTRICTED: no valid code, no cooldown spent', async (t) => {
  const phone = newRecipient()
  const until = new Date(Math.ceil(Date.now() / 1000 + 600) * 1000)
  simulator.restrictAccount(account, { until, enforcementType: 'BIZ_QUALITY', notify: false })
  t.teardown(() => simulator.liftRestriction(account, { notify: false }))
  const refused = simulator.waitFor('message-refused')

  const response = await app.inject({ method: 'POST', url: '/api/messages/restricted/otp', headers: authHeaders, payload: { to: phone } })
  t.equal(response.statusCode, 503, response.body)
  t.equal(response.json().error, 'SENDER_RESTRICTED')
  const retryAfter = Number(response.headers['retry-after'])
  t.ok(retryAfter > 590 && retryAfter <= 600, `Retry-After ${retryAfter} runs to the end WhatsApp announced`)
  await refused
  t.equal(simulator.refusedMessages, 1, 'refused once, never retried')
  t.same(simulator.pendingMessages(phone), [])

  const verify = await app.inject({ method: 'POST', url: '/api/otp/verify', headers: authHeaders, payload: { to: phone, code: '123456' } })
  t.equal(verify.json().error, 'OTP_NOT_FOUND', 'no code became valid')

  // Lifted: the same number gets a code at once, so no cooldown was spent.
  simulator.liftRestriction(account, { notify: false })
  const again = await app.inject({ method: 'POST', url: '/api/messages/restricted/otp', headers: authHeaders, payload: { to: phone } })
  t.equal(again.statusCode, 200, again.body)
  t.match((await simulator.nextMessage(phone)).text, /\d{6}/)
  t.equal(simulator.refusedMessages, 1)
})
