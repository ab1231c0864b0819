import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { WebhookDelivery, WebhookDeliveryQueue } from './state/state-store.js'

interface ImportLogger {
  info: (object: object, message?: string) => void
  warn: (object: object, message?: string) => void
}

// Versions before the state store kept pending deliveries as files in <DATA_DIR>/webhooks/pending/.
// An upgrade must not drop what they had not sent yet: each file is moved into the queue once
// (enqueued, then removed; a crash in between sends it twice at worst, never loses it).
export async function importSpooledDeliveries (dataDirectory: string, queue: Pick<WebhookDeliveryQueue, 'enqueue'>, logger: ImportLogger): Promise<number> {
  const directory = join(dataDirectory, 'webhooks', 'pending')
  let names: string[]
  try {
    names = await readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
  let imported = 0
  for (const name of names.sort()) {
    const path = join(directory, name)
    // Leftovers of writes interrupted by a crash; the file they were meant to replace is intact.
    if (!name.endsWith('.json')) {
      await rm(path, { force: true })
      continue
    }
    let delivery: WebhookDelivery
    try {
      delivery = parseSpooledDelivery(await readFile(path, 'utf8'))
    } catch (error) {
      logger.warn({ err: error, file: path }, 'skipping unreadable webhook delivery file')
      continue
    }
    await queue.enqueue(delivery)
    await rm(path, { force: true })
    imported += 1
  }
  if (imported > 0) logger.info({ count: imported }, 'moved pending webhook deliveries from files into the state store')
  return imported
}

function parseSpooledDelivery (text: string): WebhookDelivery {
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null) throw new Error('not a JSON object')
  const record = value as Record<string, unknown>
  for (const key of ['id', 'event', 'url', 'body'] as const) {
    if (typeof record[key] !== 'string') throw new Error(`field ${key} is not a string`)
  }
  for (const key of ['attempts', 'createdAt', 'nextAttemptAt'] as const) {
    if (typeof record[key] !== 'number' || !Number.isFinite(record[key])) throw new Error(`field ${key} is not a number`)
  }
  const { id, event, url, body, attempts, createdAt, nextAttemptAt } = record as unknown as WebhookDelivery
  return { id, event, url, body, attempts, createdAt, nextAttemptAt }
}
