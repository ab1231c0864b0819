import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

// A reader after a crash sees either the old file or the new one, never half of each:
// the data is flushed to a temp file in the same folder, then renamed over the target. Without
// `syncFolder`, the caller syncs the folder itself (once for several files written together).
export async function writeFileAtomic (path: string, data: string | Uint8Array, { syncFolder = true } = {}): Promise<void> {
  const temporaryPath = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const file = await open(temporaryPath, 'w', 0o600)
  try {
    await file.writeFile(data)
    await file.sync()
  } catch (error) {
    await file.close()
    await rm(temporaryPath, { force: true })
    throw error
  }
  await file.close()
  try {
    await rename(temporaryPath, path)
  } catch (error) {
    await rm(temporaryPath, { force: true })
    throw error
  }
  if (syncFolder) await syncDirectory(dirname(path))
}

// Without this a rename (or a removal) may not survive a power loss on some filesystems.
export async function syncDirectory (path: string): Promise<void> {
  const directory = await open(path, 'r')
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}
