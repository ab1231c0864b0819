import { EventEmitter } from 'node:events'
import type { EventConsumers, EventProducers } from '../../plugins/event-wiring.js'

// Bare emitters in place of the producer plugins, for tests of plugins/event-wiring.ts.
export function createProducers (): EventProducers {
  return {
    sessions: new EventEmitter(),
    messageSender: new EventEmitter(),
    otp: new EventEmitter(),
    messageStatus: new EventEmitter(),
    webhooks: new EventEmitter(),
    restrictions: new EventEmitter(),
    verifications: new EventEmitter()
  }
}

const ignore = { inc () {} }

// Consumers that do nothing, to be overridden by the one a test looks at.
export function idleConsumers (overrides: Partial<EventConsumers> = {}): EventConsumers {
  return {
    messageSender: { forgetSession: async () => {}, sessionLeft: async () => {} },
    messageStatus: { recordSent: async () => {}, recordStatus: async () => {} },
    restrictions: {
      recordRestriction () {}, recordReceived () {}, recordSent () {}, recordFailed () {}, forgetSession () {}, sessionLeft () {}
    },
    senderPool: { forgetSession () {} },
    sessions: { restrictionChanged () {} },
    verifications: { handleInbound () {}, handleStatusChange () {} },
    webhooks: { publish () {} },
    metrics: { countMessage () {}, countOtpSent () {}, otpVerified: ignore, sessionReconnects: ignore, webhookDeliveries: ignore, sessionRestrictionChanges: ignore } as unknown as EventConsumers['metrics'],
    ...overrides
  }
}
