import { createHmac, timingSafeEqual } from 'node:crypto'

// A call one instance forwards to the lease holder of a session carries these headers. The
// signature proves it came from an instance of this deployment (same secret), so the receiver
// carries it out itself and never forwards it again, and does not count it against the rate
// limit a second time.
export const instanceHeaders = {
  from: 'x-instance-from',
  timestamp: 'x-instance-timestamp',
  signature: 'x-instance-signature'
} as const

// Wide enough for clocks a little apart, short enough that a captured call is soon useless.
const maximumSkewMs = 60_000

export interface SignedCall {
  method: string
  // Path and query, as the receiving instance sees them in request.url.
  url: string
}

function signature (secret: string, call: SignedCall, from: string, timestamp: string): Buffer {
  return createHmac('sha256', secret).update(`${call.method}\n${call.url}\n${from}\n${timestamp}`).digest()
}

export function signInstanceCall (secret: string, call: SignedCall, from: string, now: number = Date.now()): Record<string, string> {
  const timestamp = String(now)
  return {
    [instanceHeaders.from]: from,
    [instanceHeaders.timestamp]: timestamp,
    [instanceHeaders.signature]: signature(secret, call, from, timestamp).toString('base64url')
  }
}

export type InstanceCallCheck = 'unsigned' | 'valid' | 'invalid'

export function checkInstanceCall (
  secret: string | undefined,
  call: SignedCall,
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now()
): InstanceCallCheck {
  const presented = headers[instanceHeaders.signature]
  if (presented === undefined) return 'unsigned'
  const from = headers[instanceHeaders.from]
  const timestamp = headers[instanceHeaders.timestamp]
  if (secret === undefined || typeof presented !== 'string' || typeof from !== 'string' || typeof timestamp !== 'string') return 'invalid'
  if (!/^\d{1,15}$/.test(timestamp) || Math.abs(now - Number(timestamp)) > maximumSkewMs) return 'invalid'
  const expected = signature(secret, call, from, timestamp)
  const given = Buffer.from(presented, 'base64url')
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid'
}
