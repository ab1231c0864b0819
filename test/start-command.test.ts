import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { projectRoot, serviceStart } from './processes.js'

// No Docker engine runs here: the image's command is read, and must be the one the tests and the
// benchmark start (npm start's, after its build), V8 arguments included.
t.test('the Docker image runs what npm start runs', async (t) => {
  const dockerfile = await readFile(join(projectRoot, 'Dockerfile'), 'utf8')
  const commands = dockerfile.split('\n').filter((line) => line.startsWith('CMD '))
  t.equal(commands.length, 1, 'one CMD (the health check has its own, indented under HEALTHCHECK)')
  t.same(JSON.parse(commands[0]!.slice('CMD '.length)), ['node', ...serviceStart])
  t.equal(serviceStart.at(-1), 'dist/src/server.js')
})
