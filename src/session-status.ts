// Every state a session can be in, the one list: the registry's type, the API schema and the
// metrics gauge all derive from it.
export const sessionStatuses = ['initializing', 'qr', 'connecting', 'connected', 'reconnecting', 'qr_timeout', 'logged_out', 'replaced', 'failed', 'closed'] as const

export type SessionStatus = typeof sessionStatuses[number]
