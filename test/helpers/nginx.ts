import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, watch } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { temporaryDirectory, type TestContext } from '../helper.js'

// Debian's nginx; .ci/run installs it when missing. The proxy tests fail without it, on purpose:
// the README's proxy configuration is only known to work because they run it.
export const nginxPath = process.env.NGINX_PATH ?? '/usr/sbin/nginx'

// The location block the README shows, word for word.
export const nginxLocationFile = new URL('../../docs/nginx.conf', import.meta.url)
const documentedUpstream = 'http://127.0.0.1:3000/'

// The address nginx connects to the service from: not the test's own 127.0.0.1, so that
// TRUST_PROXY can name the proxy without also trusting the client.
export const proxyAddress = '127.0.0.2'

export interface RunningNginx {
  // Where the service is published, e.g. http://127.0.0.1:41234/wa
  publicUrl: string
}

// Starts nginx in the foreground on `port` with the documented location block, pointed at the
// service listening at `upstream` (http://127.0.0.1:PORT). Every file it writes stays in a
// temporary folder; it is stopped when the test ends.
export async function startNginx (t: TestContext, options: { port: number, upstream: string }): Promise<RunningNginx> {
  if (!existsSync(nginxPath)) {
    throw new Error(`nginx not found at ${nginxPath}: install Debian's nginx (apt-get update && apt-get install -y nginx; .ci/run does this) or set NGINX_PATH`)
  }
  const directory = await temporaryDirectory(t, 'nginx-')
  const location = await readFile(nginxLocationFile, 'utf8')
  if (!location.includes(documentedUpstream)) throw new Error(`${nginxLocationFile.pathname} no longer proxies to ${documentedUpstream}`)
  const errorLogFile = join(directory, 'error.log')
  const pidFile = join(directory, 'nginx.pid')
  const configFile = join(directory, 'nginx.conf')
  await writeFile(configFile, `# One process (no workers to run as another user), every file in ${directory}.
master_process off;
pid ${pidFile};
error_log ${errorLogFile} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(directory, 'client-body')};
  proxy_temp_path ${join(directory, 'proxy')};
  fastcgi_temp_path ${join(directory, 'fastcgi')};
  uwsgi_temp_path ${join(directory, 'uwsgi')};
  scgi_temp_path ${join(directory, 'scgi')};
  server {
    listen 127.0.0.1:${options.port};
    proxy_bind ${proxyAddress};
${location.replace(documentedUpstream, `${options.upstream}/`).replace(/^/gm, '    ')}
  }
}
`)
  const errorLog = async (): Promise<string> => await readFile(errorLogFile, 'utf8').catch(() => '')

  // nginx writes its pid file once its listening socket is open: that is the moment it is ready.
  const pidWritten = new Promise<void>((resolve) => {
    const watcher = watch(directory, () => {
      if (existsSync(pidFile)) { watcher.close(); resolve() }
    })
    t.teardown(() => watcher.close())
  })
  const child = spawn(nginxPath, ['-p', directory, '-c', configFile, '-e', errorLogFile, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGQUIT')
    await exited
  })
  const ready = await Promise.race([pidWritten.then(() => true), exited.then(() => false)])
  if (!ready) throw new Error(`nginx stopped at start: ${stderr}${await errorLog()}`)
  return { publicUrl: `http://127.0.0.1:${options.port}/wa` }
}
