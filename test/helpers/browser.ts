import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

// Debian's chromium, driven headless by playwright-core; .ci/run installs it when missing.
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// The tap `skip` option of a test that needs the browser: false, or why it cannot run.
export const browserMissing: false | string = existsSync(chromiumPath) ? false : `no browser at ${chromiumPath} (apt-get install chromium)`

export async function launchBrowser (t: { teardown: (fn: () => unknown) => void }): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // No sandbox as root; no background traffic, which this machine's closed network refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  return browser
}
