import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { authHeaders, buildWithSimulator, linkSession } from './helper.js'

// Everything this process writes to stdout and stderr while the test runs.
function captureOutput (t: { teardown: (fn: () => void) => void }): { text: () => string } {
  const chunks: string[] = []
  const streams = [process.stdout, process.stderr]
  const originals = streams.map((stream) => stream.write.bind(stream))
  streams.forEach((stream, index) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(String(chunk))
      return (originals[index] as (...args: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof stream.write
  })
  t.teardown(() => { streams.forEach((stream, index) => { stream.write = originals[index] as typeof stream.write }) })
  return { text: () => chunks.join('') }
}

t.test('the first OTP to a new contact puts no Signal session or key on stdout, stderr or a log', async (t) => {
  const output = captureOutput(t)
  const { app, simulator, config } = await buildWithSimulator(t, { env: { WA_LOG_LEVEL: 'debug' } })
  await linkSession(app, simulator, 'signal', '6281300000077')
  const phone = '6281377000001'
  simulator.addContact(phone)

  const response = await app.inject({ method: 'POST', url: '/api/messages/signal/otp', headers: authHeaders, payload: { to: phone } })
  t.equal(response.statusCode, 200, response.body)
  const message = await simulator.nextMessage(phone)
  t.match(message.text, /\d{6}/, 'the phone decrypted the code, so Signal sessions were opened on both sides')

  console.log('an ordinary console line still reaches stdout')
  await app.close()
  const printed = output.text()
  t.match(printed, /an ordinary console line still reaches stdout/)
  t.notMatch(printed, /privKey|SessionEntry|Closing session|Opening session/)

  const logFiles = await readdir(config.logDirectory)
  for (const file of logFiles) {
    const log = await readFile(join(config.logDirectory, file), 'utf8')
    t.notMatch(log, /privKey|SessionEntry|<Buffer/, `${file} holds no key material`)
  }
  const whatsappLog = await readFile(join(config.logDirectory, 'whatsapp-service.log'), 'utf8')
  t.match(whatsappLog, /"source":"libsignal"/, "libsignal's own words are kept in the WhatsApp log, without their objects")
})
