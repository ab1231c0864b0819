import { errors } from './errors.js'

// The one definition of a session id: it names a folder on disk and a key in the state store,
// so it holds no '/', '.', ':' or spaces. Schemas take the pattern's source, code the regex.
export const sessionIdPattern = /^[A-Za-z0-9_-]{1,64}$/
export const sessionIdDescription = 'Session id: 1-64 letters, digits, "_" or "-"'

export function isSessionId (candidate: string): boolean {
  return sessionIdPattern.test(candidate)
}

export function assertSessionId (sessionId: string): void {
  if (!isSessionId(sessionId)) throw new errors.SESSION_ID_INVALID()
}
