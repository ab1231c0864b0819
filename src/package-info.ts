import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The same code runs from src/ (tsx) and from dist/src/ (built), so the package file is found
// by walking up rather than by a fixed relative path.
function findPackageFile (): string {
  let directory = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory)
    if (parent === directory) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url))
    directory = parent
  }
  return join(directory, 'package.json')
}

const packageJson = JSON.parse(readFileSync(findPackageFile(), 'utf8')) as { name: string, version: string, description: string }

export const packageInfo = { name: packageJson.name, version: packageJson.version, description: packageJson.description }
