import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createVersionSource, type VersionSource, type WhatsAppVersion } from '../src/whatsapp-version.js'

declare module 'fastify' {
  interface FastifyInstance {
    whatsappVersion: VersionSource
  }
}

export interface WhatsAppVersionPluginOptions {
  // The version the WhatsApp library ships with (plugins/transport.ts), handed in by src/app.ts:
  // plugins reach each other through decorators, and the transport is registered after this one.
  bundled: WhatsAppVersion
}

async function whatsappVersionPlugin (fastify: FastifyInstance, options: WhatsAppVersionPluginOptions): Promise<void> {
  const config = fastify.config
  const closing = new AbortController()
  const source = createVersionSource({
    setting: config.whatsappVersion,
    url: config.whatsappVersionUrl,
    timeoutMs: config.whatsappVersionTimeoutMs,
    bundled: options.bundled,
    signal: closing.signal
  })
  const log = fastify.log.child({ component: 'whatsapp-version' })
  // Not awaited: the service answers while the version is fetched (up to WA_VERSION_TIMEOUT_MS on
  // a slow network), and sockets wait for it through settled(). refresh() never rejects.
  void source.refresh().then((state) => {
    if (state.lastError !== null) log.warn({ url: config.whatsappVersionUrl, err: state.lastError, version: state.version.join('.') }, 'fetching the WhatsApp Web version failed; using the bundled one')
    else log.info({ version: state.version.join('.'), source: state.source }, 'WhatsApp Web version')
  })
  fastify.decorate('whatsappVersion', source)
  fastify.addHook('onClose', async () => {
    closing.abort()
    await source.settled()
  })
  fastify.healthChecks.add('whatsappVersion', () => {
    const { version, source: origin, fetchedAt, lastError } = source.state()
    return { status: 'ok', version: version.join('.'), source: origin, fetchedAt, lastError }
  })
}

export default fp(whatsappVersionPlugin, { name: 'whatsapp-version', fastify: '5.x', dependencies: ['health'] })
