import { join } from 'node:path'
import { openEmbeddedStateStore, type EmbeddedStateStore } from '../../src/state/embedded-state-store.js'
import { temporaryDirectory, type TestContext } from '../helper.js'

// A real embedded state store in a temporary folder, closed when the test ends. `clock` is the
// store's own: tests that move time move it for the store and the code under test together.
export async function openTestStateStore (
  t: TestContext,
  options: { clock?: () => number, directory?: string } = {}
): Promise<EmbeddedStateStore> {
  const directory = options.directory ?? await temporaryDirectory(t, 'state-store-test-')
  const store = await openEmbeddedStateStore({
    dataDirectory: join(directory, 'data'),
    authStateDirectory: join(directory, 'auth_state'),
    sweepIntervalMs: 0,
    ...(options.clock === undefined ? {} : { clock: options.clock })
  })
  t.teardown(() => store.close())
  return store
}
