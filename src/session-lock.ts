// One operation at a time per key: concurrent create, restart and delete of a session never race.
export type KeyedLock = <T>(key: string, operation: () => Promise<T>) => Promise<T>

export function createKeyedLock (): KeyedLock {
  const locks = new Map<string, Promise<unknown>>()
  return async function withLock<T> (key: string, operation: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve()
    const current = previous.catch(() => {}).then(operation)
    locks.set(key, current)
    try {
      return await current
    } finally {
      if (locks.get(key) === current) locks.delete(key)
    }
  }
}
