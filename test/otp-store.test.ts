import t, { type Test } from 'tap'
import { hashOtpCode } from '../src/otp-code.js'
import { createOtpService, type OtpServiceOptions } from '../src/otp-service.js'
import { createMemoryOtpStore, type OtpRecord } from '../src/otp-store.js'

const phone = '628123456789'
const secret = 'test secret'
const start = Date.UTC(2025, 0, 1)

function setup (t: Test, overrides: Partial<OtpServiceOptions> = {}) {
  let now = start
  const clock = () => now
  const store = createMemoryOtpStore({ clock })
  t.teardown(() => store.close())
  const service = createOtpService({
    store,
    secret,
    clock,
    length: 6,
    ttlSeconds: 300,
    maxAttempts: 5,
    cooldownSeconds: 60,
    maxPerHour: 5,
    ...overrides,
  })
  return {
    store,
    service,
    advanceSeconds (seconds: number) { now += seconds * 1000 },
    advanceMilliseconds (milliseconds: number) { now += milliseconds },
    now: () => now,
    async sendCode (number = phone) {
      const reservation = await service.reserveSend(number)
      await service.commit(reservation)
      return reservation
    },
    readRecord (number = phone) {
      return store.update<OtpRecord | undefined>(number, record => ({ record, result: record }))
    },
  }
}

// A code that differs from `code` in every digit, so it can never be the right one by accident.
function wrongCode (code: string): string {
  return [...code].map(digit => String((Number(digit) + 1) % 10)).join('')
}

t.test('a reserved code becomes valid only on commit, then verifies exactly once', async t => {
  const { service } = setup(t)
  const reservation = await service.reserveSend(phone)
  t.match(reservation.code, /^\d{6}$/)
  t.equal(reservation.phone, phone)
  t.equal(reservation.ttlSeconds, 300)
  t.equal(reservation.resendAfter, start + 60_000)

  await t.rejects(service.verify(phone, reservation.code), { code: 'OTP_NOT_FOUND' }, 'not valid before commit')
  t.same(await service.commit(reservation), { expiresAt: start + 300_000 })
  await t.resolves(service.verify(phone, reservation.code))
  await t.rejects(service.verify(phone, reservation.code), {
    code: 'OTP_NOT_FOUND',
    statusCode: 404,
    message: 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru',
  }, 'spent after one use')
})

t.test('only the HMAC of the code is stored', async t => {
  const { sendCode, readRecord } = setup(t)
  const reservation = await sendCode()
  const record = await readRecord()
  t.equal(record?.code?.hash, hashOtpCode(secret, phone, reservation.code))
  t.notOk(JSON.stringify(record).includes(reservation.code), 'the code does not appear in the record')
})

t.test('a code is valid only for its own number', async t => {
  const { service, sendCode } = setup(t)
  const reservation = await sendCode()
  await sendCode('6591234567')
  await t.rejects(service.verify('6591234567', reservation.code), { code: 'OTP_INVALID' })
  await t.rejects(service.verify('628111111111', reservation.code), { code: 'OTP_NOT_FOUND' })
})

t.test('a new code voids the old one', async t => {
  const { service, sendCode, advanceSeconds } = setup(t)
  const first = await sendCode()
  advanceSeconds(60)
  let second = await sendCode()
  // Codes are random; in the rare case both are equal the old one cannot be told apart.
  while (second.code === first.code) {
    advanceSeconds(60)
    second = await sendCode()
  }
  await t.rejects(service.verify(phone, first.code), { code: 'OTP_INVALID', attemptsLeft: 4 })
  await t.resolves(service.verify(phone, second.code))
})

t.test('wrong codes count down, then the code is void even for the right code', async t => {
  const { service, sendCode } = setup(t)
  const { code } = await sendCode()
  for (const attemptsLeft of [4, 3, 2, 1]) {
    await t.rejects(service.verify(phone, wrongCode(code)), {
      code: 'OTP_INVALID',
      statusCode: 400,
      attemptsLeft,
      message: `Kode OTP salah, sisa percobaan: ${attemptsLeft}`,
    })
  }
  await t.rejects(service.verify(phone, wrongCode(code)), {
    code: 'OTP_TOO_MANY_ATTEMPTS',
    statusCode: 429,
    message: 'Terlalu banyak percobaan salah, kode OTP dibatalkan. Minta kode baru',
  })
  await t.rejects(service.verify(phone, code), { code: 'OTP_TOO_MANY_ATTEMPTS' }, 'the right code no longer works')
})

t.test('a single allowed attempt voids the code on the first wrong try', async t => {
  const { service, sendCode } = setup(t, { maxAttempts: 1 })
  const { code } = await sendCode()
  await t.rejects(service.verify(phone, wrongCode(code)), { code: 'OTP_TOO_MANY_ATTEMPTS' })
})

t.test('a code expires after its time to live', async t => {
  const { service, sendCode, advanceMilliseconds, advanceSeconds } = setup(t)
  const first = await sendCode()
  advanceMilliseconds(300_000 - 1)
  await t.resolves(service.verify(phone, first.code), 'still valid one millisecond before expiry')

  const second = await sendCode()
  advanceSeconds(300)
  await t.rejects(service.verify(phone, second.code), {
    code: 'OTP_EXPIRED',
    statusCode: 410,
    message: 'Kode OTP sudah kedaluwarsa. Minta kode baru',
  })
  await t.rejects(service.verify(phone, wrongCode(second.code)), { code: 'OTP_EXPIRED' }, 'expired, whatever the code')
  advanceSeconds(3600)
  await t.rejects(service.verify(phone, second.code), { code: 'OTP_NOT_FOUND' }, 'forgotten an hour after expiry')
})

t.test('a code is valid for its whole time to live from the commit, however long the send waited', async t => {
  const { service, advanceSeconds } = setup(t)
  const reservation = await service.reserveSend(phone)
  // The message waited 15 s for its turn in the session's send queue.
  advanceSeconds(15)
  t.same(await service.commit(reservation), { expiresAt: start + 15_000 + 300_000 })
  advanceSeconds(299)
  await t.resolves(service.verify(phone, reservation.code), 'still valid 299 s after it was sent')
})

t.test('an unregistered-number answer counts toward the cooldown and the hourly cap but leaves no code', async t => {
  const { service, advanceSeconds } = setup(t)
  const delivered = await service.reserveSend(phone)
  await service.commit(delivered)
  advanceSeconds(60)
  const unanswered = await service.reserveSend(phone)
  await service.countWithoutCode(unanswered)
  await t.rejects(service.reserveSend(phone), { code: 'OTP_COOLDOWN', retryAfterSeconds: 60 })
  await t.resolves(service.verify(phone, delivered.code), 'the code delivered before stays valid')
  await t.rejects(service.countWithoutCode(unanswered), /is not pending/, 'settled once')
})

t.test('per-send overrides of length and time to live', async t => {
  const { service, advanceSeconds } = setup(t)
  const reservation = await service.reserveSend(phone, { length: 8, ttlSeconds: 30 })
  t.match(reservation.code, /^\d{8}$/)
  t.equal(reservation.ttlSeconds, 30)
  t.same(await service.commit(reservation), { expiresAt: start + 30_000 })
  advanceSeconds(30)
  await t.rejects(service.verify(phone, reservation.code), { code: 'OTP_EXPIRED' })
})

t.test('bad overrides are refused before anything is reserved', async t => {
  const { service } = setup(t)
  await t.rejects(service.reserveSend(phone, { length: 3 }), RangeError)
  await t.rejects(service.reserveSend(phone, { ttlSeconds: 0 }), RangeError)
  await t.resolves(service.reserveSend(phone), 'no cooldown was started')
})

t.test('one send per cooldown per number, answered with the seconds left', async t => {
  const { service, sendCode, advanceMilliseconds, advanceSeconds } = setup(t)
  await sendCode()
  advanceMilliseconds(10_500)
  await t.rejects(service.reserveSend(phone), {
    code: 'OTP_COOLDOWN',
    statusCode: 429,
    retryAfterSeconds: 50,
    message: 'OTP untuk nomor ini baru saja dikirim, tunggu 50 detik sebelum meminta lagi',
  }, 'partial seconds round up')
  await t.resolves(service.reserveSend('6591234567'), 'other numbers are not affected')
  advanceMilliseconds(49_499)
  await t.rejects(service.reserveSend(phone), { code: 'OTP_COOLDOWN', retryAfterSeconds: 1 })
  advanceMilliseconds(1)
  await t.resolves(service.reserveSend(phone))
  advanceSeconds(1)
  await t.rejects(service.reserveSend(phone), { code: 'OTP_COOLDOWN' }, 'a reserved send counts, committed or not')
})

t.test('no cooldown at all when it is set to 0', async t => {
  const { sendCode } = setup(t, { cooldownSeconds: 0 })
  await sendCode()
  await t.resolves(sendCode())
})

t.test('an hourly cap per number, counted over a sliding hour', async t => {
  const { service, sendCode, advanceSeconds } = setup(t, { maxPerHour: 3 })
  await sendCode()
  advanceSeconds(60)
  await sendCode()
  advanceSeconds(60)
  const third = await sendCode()
  t.equal(third.resendAfter, start + 3600_000, 'the last send of the hour says when the window frees up')
  advanceSeconds(60)
  await t.rejects(service.reserveSend(phone), {
    code: 'OTP_HOURLY_LIMIT',
    statusCode: 429,
    retryAfterSeconds: 3600 - 180,
    message: `Batas pengiriman OTP per jam untuk nomor ini tercapai, coba lagi dalam ${3600 - 180} detik`,
  })
  advanceSeconds(3600 - 181)
  await t.rejects(service.reserveSend(phone), { code: 'OTP_HOURLY_LIMIT', retryAfterSeconds: 1 })
  advanceSeconds(1)
  const fourth = await sendCode()
  t.equal(fourth.resendAfter, start + 3660_000, 'the second send now bounds the window')
})

t.test('the hourly wait is never shorter than the cooldown', async t => {
  const { service, sendCode, advanceSeconds } = setup(t, { maxPerHour: 1, cooldownSeconds: 7200 })
  const only = await sendCode()
  t.equal(only.resendAfter, start + 7200_000)
  advanceSeconds(10)
  await t.rejects(service.reserveSend(phone), { code: 'OTP_HOURLY_LIMIT', retryAfterSeconds: 7190 })
  advanceSeconds(3600)
  await t.rejects(service.reserveSend(phone), { code: 'OTP_COOLDOWN', retryAfterSeconds: 3590 }, 'the hour is over, the cooldown is not')
})

t.test('a released reservation leaves no valid code and costs no cooldown or hourly slot', async t => {
  const { service, readRecord } = setup(t, { maxPerHour: 1 })
  for (let round = 0; round < 3; round++) {
    const reservation = await service.reserveSend(phone)
    await service.release(reservation)
    await t.rejects(service.verify(phone, reservation.code), { code: 'OTP_NOT_FOUND' })
  }
  t.equal(await readRecord(), undefined, 'nothing is left for the number')
  const reservation = await service.reserveSend(phone)
  await service.commit(reservation)
  await t.resolves(service.verify(phone, reservation.code))
})

t.test('releasing a failed resend keeps the code delivered before', async t => {
  const { service, sendCode, advanceSeconds } = setup(t)
  const delivered = await sendCode()
  advanceSeconds(60)
  let failed = await service.reserveSend(phone)
  await service.release(failed)
  // Codes are random; a failed code equal to the delivered one would prove nothing.
  while (failed.code === delivered.code) {
    failed = await service.reserveSend(phone)
    await service.release(failed)
  }
  await t.rejects(service.verify(phone, failed.code), { code: 'OTP_INVALID', attemptsLeft: 4 })
  await t.resolves(service.verify(phone, delivered.code))
})

t.test('a reservation is settled once: commit or release, not both, not twice', async t => {
  const { service } = setup(t, { cooldownSeconds: 0 })
  const committed = await service.reserveSend(phone)
  await service.commit(committed)
  await t.rejects(service.commit(committed), /is not pending/)
  await t.rejects(service.release(committed), /is not pending/)

  const released = await service.reserveSend(phone)
  await service.release(released)
  await t.rejects(service.release(released), /is not pending/)
  await t.rejects(service.commit(released), /is not pending/)

  const elsewhere = await service.reserveSend(phone)
  await t.rejects(service.commit({ ...elsewhere, phone: '6591234567' }), /is not pending/, 'unknown for that number')
  await t.rejects(service.release({ ...elsewhere, phone: '6591234567' }), /is not pending/)
})

t.test('voidCode voids the code sent for that verification, and nothing else', async t => {
  const { service, readRecord } = setup(t)
  t.equal(await service.voidCode(phone, 'first'), false, 'no code for the number')
  t.equal(await readRecord(), undefined, 'and nothing written')

  const first = await service.reserveSend(phone, { verificationId: 'first' })
  t.equal(first.verificationId, 'first')
  await service.commit(first)
  t.equal((await readRecord())?.code?.verificationId, 'first', 'kept with the code')
  t.equal(await service.voidCode(phone, 'second'), false, 'another verification voids nothing')
  t.equal(await service.voidCode('6591234567', 'first'), false, 'nor does another number')
  await t.rejects(service.verify(phone, wrongCode(first.code)), { code: 'OTP_INVALID', attemptsLeft: 4 }, 'the code is still there, attempts and all')

  t.equal(await service.voidCode(phone, 'first'), true)
  await t.rejects(service.verify(phone, first.code), {
    code: 'OTP_NOT_FOUND',
    statusCode: 404,
    message: 'Tidak ada kode OTP aktif untuk nomor ini. Minta kode baru',
  }, 'its right code no longer verifies')
  await t.rejects(service.verify(phone, wrongCode(first.code)), { code: 'OTP_NOT_FOUND' }, 'a wrong one meets no code either')
  t.equal(await service.voidCode(phone, 'first'), false, 'voided once')
  await t.rejects(service.reserveSend(phone), { code: 'OTP_COOLDOWN' }, 'the send still counts toward the cooldown')
})

t.test('voiding an older verification never voids a newer code, before or after the newer commit', async t => {
  const { service, advanceSeconds } = setup(t)
  const older = await service.reserveSend(phone, { verificationId: 'older' })
  await service.commit(older)
  advanceSeconds(60)
  const newer = await service.reserveSend(phone, { verificationId: 'newer' })
  t.equal(await service.voidCode(phone, 'older'), true, 'before the newer commit, the older code is the one voided')
  await service.commit(newer)
  t.equal(await service.voidCode(phone, 'older'), false, 'after it, the newer code is left alone')
  await t.resolves(service.verify(phone, newer.code))
})

t.test('a code committed without a verification id (before codes kept one) is voided by none', async t => {
  const { service, readRecord } = setup(t)
  const reservation = await service.reserveSend(phone)
  await service.commit(reservation)
  t.notOk(Object.hasOwn((await readRecord())?.code ?? {}, 'verificationId'), 'no id field in the record')
  t.equal(await service.voidCode(phone, 'any'), false)
  await t.resolves(service.verify(phone, reservation.code))
})

t.test('two verifies of the same right code at once: exactly one succeeds', async t => {
  const { service, sendCode } = setup(t)
  const { code } = await sendCode()
  const results = await Promise.allSettled([service.verify(phone, code), service.verify(phone, code)])
  t.equal(results.filter(result => result.status === 'fulfilled').length, 1)
  const rejected = results.find(result => result.status === 'rejected')
  t.match(rejected, { reason: { code: 'OTP_NOT_FOUND' } })
})

t.test('two sends at once for one number: exactly one passes the cooldown', async t => {
  const { service } = setup(t)
  const results = await Promise.allSettled([service.reserveSend(phone), service.reserveSend(phone)])
  t.equal(results.filter(result => result.status === 'fulfilled').length, 1)
  t.match(results.find(result => result.status === 'rejected'), { reason: { code: 'OTP_COOLDOWN' } })
})

t.test('options are checked when the service is created', async t => {
  const store = createMemoryOtpStore()
  t.teardown(() => store.close())
  const valid: OtpServiceOptions = { store, secret, length: 6, ttlSeconds: 300, maxAttempts: 5, cooldownSeconds: 60, maxPerHour: 5 }
  t.ok(createOtpService(valid), 'the defaults are fine')
  for (const [name, value] of [['ttlSeconds', 0], ['maxAttempts', 0], ['cooldownSeconds', -1], ['maxPerHour', 0], ['ttlSeconds', 1.5]] as const) {
    t.throws(() => createOtpService({ ...valid, [name]: value }), { name: 'RangeError', message: new RegExp(name) }, `${name} ${value}`)
  }
})

t.test('the real clock is used when none is given', async t => {
  const store = createMemoryOtpStore()
  t.teardown(() => store.close())
  const service = createOtpService({ store, secret, length: 6, ttlSeconds: 300, maxAttempts: 5, cooldownSeconds: 60, maxPerHour: 5 })
  const before = Date.now()
  const reservation = await service.reserveSend(phone)
  const { expiresAt } = await service.commit(reservation)
  t.ok(expiresAt >= before + 300_000 && expiresAt <= Date.now() + 300_000)
  await t.resolves(service.verify(phone, reservation.code))
})

t.test('memory store: expired records are swept, and ignored even before the sweep', async t => {
  let now = start
  let sweep: (() => void) | undefined
  let stopped = 0
  const store = createMemoryOtpStore({
    clock: () => now,
    startSweeping (callback) {
      sweep = callback
      return () => { stopped++ }
    },
  })
  const record: OtpRecord = { sends: [], deleteAfter: start + 1000 }
  await store.update('a', () => ({ record, result: undefined }))
  await store.update('b', () => ({ record: { ...record, deleteAfter: start + 5000 }, result: undefined }))
  t.equal(store.size(), 2)

  now = start + 1000
  const seen = await store.update('a', current => ({ record: current, result: current }))
  t.equal(seen, undefined, 'a record past deleteAfter reads as absent')
  t.equal(store.size(), 1, 'and writing absent deletes it')

  await store.update('c', () => ({ record: { ...record, deleteAfter: start + 2000 }, result: undefined }))
  now = start + 2000
  t.equal(store.size(), 2)
  sweep?.()
  t.equal(store.size(), 1, 'the sweep drops what nobody asked about again')

  await store.close()
  t.equal(stopped, 1, 'close stops the sweep')
  t.equal(store.size(), 0, 'close forgets everything')
  await t.rejects(store.update('b', current => ({ record: current, result: current })), /closed/)
})

t.test('memory store: a change that throws writes nothing, and records are copies', async t => {
  const store = createMemoryOtpStore()
  t.teardown(() => store.close())
  const deleteAfter = Date.now() + 60_000
  const record: OtpRecord = { sends: [], deleteAfter }
  await store.update('a', () => ({ record, result: undefined }))
  record.deleteAfter = 0
  await t.rejects(store.update('a', current => {
    current!.sends.push({ reservationId: 'x', at: 1, state: 'reserved' })
    throw new Error('change failed')
  }), /change failed/)
  const stored = await store.update('a', current => ({ record: current, result: current }))
  t.same(stored, { sends: [], deleteAfter }, 'neither the failed change nor later edits of the written object reach the store')
})
