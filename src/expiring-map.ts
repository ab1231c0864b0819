// A Map bounded in size and age: entries expire ttlMs after their last write, and the least
// recently written entry goes first when the map is full. Map keeps insertion order, so deleting
// before setting moves a key to the end and the oldest write is always first.
export class ExpiringMap<Key, Value> {
  private readonly entries = new Map<Key, { value: Value, expiresAt: number }>()

  constructor (
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now
  ) {}

  get size (): number {
    this.removeExpired()
    return this.entries.size
  }

  get (key: Key): Value | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set (key: Key, value: Value): void {
    this.entries.delete(key)
    this.entries.set(key, { value, expiresAt: this.clock() + this.ttlMs })
    this.removeExpired()
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as Key)
  }

  delete (key: Key): void {
    this.entries.delete(key)
  }

  private removeExpired (): void {
    const now = this.clock()
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break
      this.entries.delete(key)
    }
  }
}
