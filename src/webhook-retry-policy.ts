// When a webhook attempt is tried again, and when not: network errors, timeouts, 5xx and 429 are
// retried with backoff (or the receiver's Retry-After); any other answer outside 2xx is final.

export type AttemptResult =
  | { kind: 'delivered', statusCode: number }
  | { kind: 'retry', statusCode?: number, error: string, retryAfterMs?: number }
  | { kind: 'failed', statusCode?: number, error: string }

export interface RetryPolicy {
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export function resultOfResponse (statusCode: number, retryAfter: string | null, now: number, maxDelayMs: number): AttemptResult {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode }
  const error = `HTTP ${statusCode}`
  if (statusCode === 429 || statusCode >= 500) {
    const retryAfterMs = statusCode === 429 || statusCode === 503
      ? parseRetryAfter(retryAfter, now, maxDelayMs)
      : undefined
    return { kind: 'retry', statusCode, error, retryAfterMs }
  }
  return { kind: 'failed', statusCode, error }
}

// Retry-After is either seconds or an HTTP date; anything else is ignored in favour of backoff.
export function parseRetryAfter (value: string | null, now: number, maxDelayMs: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  let delay: number
  if (/^\d+$/.test(trimmed)) {
    delay = Number(trimmed) * 1000
  } else {
    const date = Date.parse(trimmed)
    if (Number.isNaN(date)) return undefined
    delay = Math.max(0, date - now)
  }
  return Math.min(delay, maxDelayMs)
}

// Full jitter: a random delay up to the exponential ceiling, so many receivers failing
// at once do not all come back at the same moment.
export function backoffDelay (attempts: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1))
  return Math.floor(random() * ceiling)
}

// When the next attempt is due, or undefined when the delivery has failed for good.
export function nextAttemptAt (
  result: AttemptResult,
  attempts: number,
  now: number,
  policy: RetryPolicy,
  random: () => number
): number | undefined {
  if (result.kind !== 'retry' || attempts >= policy.maxAttempts) return undefined
  return now + (result.retryAfterMs ?? backoffDelay(attempts, policy, random))
}
