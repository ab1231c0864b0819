import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from './atomic-file.js'
import type { WebhookDelivery } from './state/state-store.js'

// Failed deliveries are kept in <dataDirectory>/webhooks/failed/ for an operator to inspect or
// replay by hand, at most `keep` of them; file names start with the time so the oldest sort
// first and are removed once there are too many. 0 keeps none.
export function createFailedDeliveryLog (
  dataDirectory: string,
  keep: number
): (delivery: WebhookDelivery, failedAt: number, error: string) => Promise<void> {
  const directory = join(dataDirectory, 'webhooks', 'failed')
  return async function keepFailedDelivery (delivery, failedAt, error) {
    if (keep === 0) return
    await mkdir(directory, { recursive: true })
    const fileName = `${String(failedAt).padStart(15, '0')}-${delivery.id}.json`
    const record = {
      id: delivery.id,
      event: delivery.event,
      url: delivery.url,
      body: delivery.body,
      attempts: delivery.attempts,
      createdAt: delivery.createdAt,
      failedAt,
      error
    }
    await writeFileAtomic(join(directory, fileName), JSON.stringify(record))
    const kept = (await readdir(directory)).filter((name) => name.endsWith('.json')).sort()
    const excess = kept.slice(0, Math.max(0, kept.length - keep))
    await Promise.all(excess.map((name) => rm(join(directory, name), { force: true })))
  }
}
