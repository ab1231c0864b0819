import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('embedded defaults need no environment at all', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.same(config.apiKeys, [])
  t.match(config.authStateDirectory, /auth_state$/)
  t.match(config.logDirectory, /logs$/)
  t.match(config.dataDirectory, /data$/)
  t.equal(config.rateLimitMax, 100)
  t.equal(config.rateLimitWindowMs, 60_000)
  t.equal(config.otpLength, 6)
  t.equal(config.otpTtlSeconds, 300)
  t.equal(config.otpMaxAttempts, 5)
  t.equal(config.otpCooldownSeconds, 60)
  t.equal(config.otpMaxPerHour, 5)
  t.equal(config.mediaMaxBytes, 16 * 1024 * 1024)
  t.equal(config.webhookEvents, 'all')
  t.equal(config.whatsappWebSocketUrl, undefined)
})

t.test('lists, booleans and durations are parsed', async (t) => {
  const config = loadConfig({
    API_KEY: ' first-key-0123456789 , second-key-0123456789 ',
    TRUST_PROXY: 'true',
    RATE_LIMIT_WINDOW: '30 seconds',
    WEBHOOK_URL: 'http://127.0.0.1:9/a,https://example.test/b',
    WEBHOOK_EVENTS: 'otp.sent,session.connected',
    WA_WEB_SOCKET_URL: 'ws://127.0.0.1:4500/ws/chat',
    OTP_EXPOSE_CODE: '1'
  })
  t.same(config.apiKeys, ['first-key-0123456789', 'second-key-0123456789'])
  t.equal(config.trustProxy, true)
  t.equal(config.rateLimitWindowMs, 30_000)
  t.same(config.webhookUrls, ['http://127.0.0.1:9/a', 'https://example.test/b'])
  t.same(config.webhookEvents, ['otp.sent', 'session.connected'])
  t.equal(config.whatsappWebSocketUrl, 'ws://127.0.0.1:4500/ws/chat')
  t.equal(config.otpExposeCode, true)
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '1 minute' }).rateLimitWindowMs, 60_000)
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '2h' }).rateLimitWindowMs, 7_200_000)
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '1500' }).rateLimitWindowMs, 1500)
  t.equal(loadConfig({ WEBHOOK_EVENTS: 'all' }).webhookEvents, 'all')
})

t.test('every duration unit is read in both spellings, and plain numbers are milliseconds', async (t) => {
  const durations: Array<[string, number]> = [
    ['1500', 1500],
    ['500ms', 500],
    ['500 ms', 500],
    ['1 millisecond', 1],
    ['500 milliseconds', 500],
    ['60s', 60_000],
    ['1 second', 1000],
    ['30 seconds', 30_000],
    ['5m', 300_000],
    ['1 minute', 60_000],
    ['10 minutes', 600_000],
    ['1h', 3_600_000],
    ['1 hour', 3_600_000],
    ['2 hours', 7_200_000],
    ['2H', 7_200_000],
    [' 45 Seconds ', 45_000]
  ]
  for (const [raw, expected] of durations) {
    t.equal(loadConfig({ RATE_LIMIT_WINDOW: raw }).rateLimitWindowMs, expected, raw)
  }
})

t.test('anything that is not a duration stops the service with one line', async (t) => {
  for (const raw of ['soon', '0', '0s', '-5s', '1.5h', '60ss', '60 secs', '1d', '1 day', '5 m s', 's', '1e3', '60s later', '99999999999999999h']) {
    const error = t.throws(() => loadConfig({ RATE_LIMIT_WINDOW: raw }), raw) as Error
    t.type(error, ConfigError)
    t.match(error.message, /^Invalid configuration: RATE_LIMIT_WINDOW must be a positive duration/)
    t.notMatch(error.message, /\n/)
  }
})

const badValues: Array<[Record<string, string>, string, RegExp]> = [
  [{ PORT: 'abc' }, 'PORT', /integer from 0 to 65535/],
  [{ PORT: '70000' }, 'PORT', /integer/],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of fatal, error/],
  [{ WA_LOG_LEVEL: 'verbose' }, 'WA_LOG_LEVEL', /one of/],
  [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY', /true or false/],
  [{ RATE_LIMIT_WINDOW: 'soon' }, 'RATE_LIMIT_WINDOW', /positive duration/],
  [{ RATE_LIMIT_WINDOW: '0' }, 'RATE_LIMIT_WINDOW', /positive duration/],
  [{ RATE_LIMIT_MAX: '0' }, 'RATE_LIMIT_MAX', /integer from 1/],
  [{ LOG_FILE_MAX_BYTES: '10M' }, 'LOG_FILE_MAX_BYTES', /integer from 1024/],
  [{ LOG_FILE_COUNT: '0' }, 'LOG_FILE_COUNT', /integer from 1 to 100/],
  [{ WA_WEB_SOCKET_URL: 'http://127.0.0.1/ws' }, 'WA_WEB_SOCKET_URL', /ws: or wss:/],
  [{ WA_WEB_SOCKET_URL: 'not a url' }, 'WA_WEB_SOCKET_URL', /URL/],
  [{ WEBHOOK_URL: 'ftp://x' }, 'WEBHOOK_URL', /http: or https:/],
  [{ WEBHOOK_EVENTS: 'otp.sent,otp.delivered' }, 'WEBHOOK_EVENTS', /Unknown webhook event otp\.delivered; known events: session\.qr/],
  [{ OTP_LENGTH: '3' }, 'OTP_LENGTH', /integer from 4 to 10/],
  [{ OTP_SECRET: 'short' }, 'OTP_SECRET', /at least 16/],
  [{ API_KEY: 'short' }, 'API_KEY', /at least 16 characters/],
  [{ HOST: '0.0.0.0' }, 'API_KEY', /not a loopback address/]
]

for (const [environment, variable, expected] of badValues) {
  t.test(`a bad ${variable} stops the service with a line naming it: ${JSON.stringify(environment)}`, async (t) => {
    const error = t.throws(() => loadConfig(environment)) as Error
    t.type(error, ConfigError)
    t.match(error.message, new RegExp(`^Invalid configuration: ${variable} must be `))
    t.match(error.message, expected)
    t.notMatch(error.message, /\n/)
  })
}

t.test('a non-loopback HOST without API_KEY needs the explicit opt-out', async (t) => {
  t.equal(loadConfig({ HOST: '0.0.0.0', ALLOW_NO_API_KEY: 'true' }).host, '0.0.0.0')
  t.equal(loadConfig({ HOST: '0.0.0.0', API_KEY: 'a-long-enough-api-key' }).host, '0.0.0.0')
  t.equal(loadConfig({ HOST: 'localhost' }).host, 'localhost')
  t.equal(loadConfig({ HOST: '::1' }).host, '::1')
  t.equal(loadConfig({ HOST: '127.0.0.2' }).host, '127.0.0.2')
  t.throws(() => loadConfig({ HOST: '::' }), /API_KEY/)
})

t.test('a secret never reaches the error line', async (t) => {
  const error = t.throws(() => loadConfig({ API_KEY: 'tooshort1' })) as Error
  t.notMatch(error.message, /tooshort1/)
})

t.test('SEND_MAX_WAIT_MS: 20 s unless set, well under a 60 s proxy timeout; out of range stops the service', async (t) => {
  t.equal(loadConfig({}).sendMaxWaitMs, 20_000)
  t.equal(loadConfig({ SEND_MAX_WAIT_MS: '5000' }).sendMaxWaitMs, 5000)
  t.throws(() => loadConfig({ SEND_MAX_WAIT_MS: '-1' }), { name: 'ConfigError', message: /SEND_MAX_WAIT_MS must be an integer from 0 to 600000/ })
  t.throws(() => loadConfig({ SEND_MAX_WAIT_MS: '20s' }), { name: 'ConfigError', message: /SEND_MAX_WAIT_MS/ })
})

t.test('INSTANCE_SECRET: the first API key unless set; REDIS_URL needs one of them; never on the error line', async (t) => {
  t.equal(loadConfig({}).instanceSecret, undefined)
  t.equal(loadConfig({ API_KEY: 'first-key-0123456789,second-key-0123456789' }).instanceSecret, 'first-key-0123456789')
  t.equal(loadConfig({ API_KEY: 'first-key-0123456789', INSTANCE_SECRET: 'instance-secret-0123' }).instanceSecret, 'instance-secret-0123')
  t.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', INSTANCE_SECRET: 'instance-secret-0123', OTP_SECRET: 'otp-secret-0123456789' }).redisUrl, 'redis://127.0.0.1:6379')
  t.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', OTP_SECRET: 'otp-secret-0123456789' }), /^Invalid configuration: INSTANCE_SECRET must be set \(or API_KEY set\) when REDIS_URL is set/)
  const short = t.throws(() => loadConfig({ INSTANCE_SECRET: 'short-secret' })) as Error
  t.match(short.message, /INSTANCE_SECRET must be at least 16 characters/)
  t.notMatch(short.message, /short-secret/)
})
