import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

// A reader after a crash sees either the old file or the new one, never half of each:
// the data is flushed to a temp file in the same folder, then renamed over the target.
export async function writeFileAtomic (path: string, data: string | Uint8Array): Promise<void> {
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
  await syncDirectory(dirname(path))
}

// Without this the rename itself may not survive a power loss on some filesystems.
async function syncDirectory (path: string): Promise<void> {
  const directory = await open(path, 'r')
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}
