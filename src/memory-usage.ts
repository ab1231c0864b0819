// process.memoryUsage() reads /proc for the resident set size, about 10 µs a call: the largest
// single cost of a health answer. A reading is reused for up to a second, which a health figure
// can afford (the health route documents it).
export const memoryReadingMaxAgeMs = 1000

export interface MemoryReading { rssBytes: number, heapUsedBytes: number }

export function recentMemoryUsage (
  read: () => NodeJS.MemoryUsage = process.memoryUsage,
  clock: () => number = performance.now.bind(performance)
): () => MemoryReading {
  let reading: MemoryReading | undefined
  let readAt = 0
  return () => {
    const now = clock()
    if (reading === undefined || now - readAt >= memoryReadingMaxAgeMs) {
      const { rss, heapUsed } = read()
      reading = { rssBytes: rss, heapUsedBytes: heapUsed }
      readAt = now
    }
    return reading
  }
}
