import type { RecordCollection, StateStore } from './state/state-store.js'
import type { OtpRecord, OtpStore } from './otp-store.js'

// OTP records on the state store: they outlive a restart (embedded) and are shared by every
// instance (Redis). The store's own expiry drops a record at its `deleteAfter`, so nothing sweeps.
export function createStateOtpStore (stateStore: Pick<StateStore, 'records'>): OtpStore {
  const records: RecordCollection<OtpRecord> = stateStore.records<OtpRecord>('otp')
  return {
    async update (phone, change) {
      return await records.update(phone, (current) => {
        const { record, result } = change(current)
        return { value: record, result, expiresAt: record?.deleteAfter }
      })
    },
    // The state store belongs to its own plugin and is closed there.
    async close () {}
  }
}
