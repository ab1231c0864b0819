// Everything the service knows about one phone number. Plain JSON data with absolute times
// (milliseconds since the epoch), so a shared store can serialize it as it is.
export interface OtpRecord {
  // The one code that verify accepts; only its HMAC is kept, never the code.
  code?: {
    hash: string
    expiresAt: number
    attemptsLeft: number
    // The verification the code was sent for, so that canceling it voids this code and never a
    // newer one. Absent on codes committed before it was kept.
    verificationId?: string
  }
  // Sends of the last hour, reserved or committed: the newest one drives the cooldown, their
  // count the hourly cap.
  sends: Array<{
    reservationId: string
    at: number
    state: 'reserved' | 'committed'
  }>
  // After this time the record holds nothing that matters and the store may drop it.
  deleteAfter: number
}

export interface OtpRecordChange<Result> {
  record: OtpRecord | undefined
  result: Result
}

// The store only has to offer one atomic read-modify-write per phone number. `change` is
// synchronous and pure, so a shared store can run it under optimistic locking (Redis WATCH/MULTI,
// retrying when another instance wrote in between) and expire keys at `record.deleteAfter`.
// Returning `record: undefined` deletes the number's record. If `change` throws, nothing is written.
export interface OtpStore {
  update<Result>(phone: string, change: (record: OtpRecord | undefined) => OtpRecordChange<Result>): Promise<Result>
  close(): Promise<void>
}

export interface MemoryOtpStoreOptions {
  clock?: () => number
  // Starts calling `sweep` periodically and returns how to stop; replaceable so tests drive it.
  startSweeping?: (sweep: () => void) => () => void
}

export interface MemoryOtpStore extends OtpStore {
  // How many numbers have a record; lets tests and metrics see that pruning works.
  size(): number
  deleteExpired(): void
}

export function createMemoryOtpStore (options: MemoryOtpStoreOptions = {}): MemoryOtpStore {
  const clock = options.clock ?? Date.now
  const startSweeping = options.startSweeping ?? sweepEveryMinute
  const records = new Map<string, OtpRecord>()
  let closed = false

  function deleteExpired (): void {
    const now = clock()
    for (const [phone, record] of records) {
      if (record.deleteAfter <= now) records.delete(phone)
    }
  }

  // The sweep only bounds memory for numbers nobody asks about again; `update` ignores stale
  // records itself, so correctness never waits for it.
  const stopSweeping = startSweeping(deleteExpired)

  return {
    async update (phone, change) {
      if (closed) throw new Error('OTP store is closed')
      const stored = records.get(phone)
      const current = stored !== undefined && stored.deleteAfter > clock() ? stored : undefined
      // Read, change and write happen in one synchronous step: no other update can interleave,
      // which is what makes check-and-spend of a code atomic in a single process.
      const { record, result } = change(current === undefined ? undefined : structuredClone(current))
      if (record === undefined) records.delete(phone)
      else records.set(phone, structuredClone(record))
      return result
    },
    async close () {
      closed = true
      stopSweeping()
      records.clear()
    },
    size () {
      return records.size
    },
    deleteExpired,
  }
}

function sweepEveryMinute (sweep: () => void): () => void {
  const timer = setInterval(sweep, 60_000)
  // A pending sweep must not keep the process alive at shutdown.
  timer.unref()
  return () => clearInterval(timer)
}
