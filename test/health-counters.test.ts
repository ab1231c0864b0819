// The troubleshooting guide's counters in /api/health are kept beside the Prometheus counters
// (plugins/metrics.ts) instead of being read back from them: after real sends through the
// simulator, both must still tell the same numbers.
import t from 'tap'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'
import { parsePrometheusText } from './helpers/prometheus-text.js'

const { app, simulator } = await buildWithSimulator(t)
const contact = '6281300000042'
const notOnWhatsApp = '6281299999942'
simulator.addContact(contact)
await linkSession(app, simulator, 'main', '6281300000041')

async function send (kind: 'otp' | 'text', to: string): Promise<number> {
  const payload = kind === 'otp' ? { to } : { to, message: 'Halo' }
  return (await app.inject({ method: 'POST', url: `/api/messages/main/${kind}`, headers: authHeaders, payload })).statusCode
}

t.test('after sends that worked and sends that failed, health and /metrics tell the same counts', async (t) => {
  t.equal(await send('otp', contact), 200)
  t.equal(await send('text', contact), 200)
  t.equal(await send('text', notOnWhatsApp), 422)
  t.equal(await send('otp', notOnWhatsApp), 422)

  const samples = parsePrometheusText((await app.inject({ method: 'GET', url: '/metrics', headers: authHeaders })).body)
  const total = (name: string, labels: Record<string, string> = {}): number => samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0)
  const { counters } = (await app.inject({ method: 'GET', url: '/api/health' })).json().data.checks

  t.same(counters, {
    status: 'ok',
    totalOTPSent: total('otp_sent_total'),
    failedRequests: total('messages_sent_total', { result: 'failed' }),
    activeSessions: total('sessions', { state: 'connected' })
  }, 'health counts what /metrics counts')
  t.same(counters, { status: 'ok', totalOTPSent: 1, failedRequests: 2, activeSessions: 1 }, 'the sends above, counted')
})
