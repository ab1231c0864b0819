// Which WhatsApp Web version the sockets announce. WhatsApp refuses logins from versions it
// considers too old with 405, and a stale version is the first cause of QR loops and 405s that
// users of WhatsApp libraries report. Baileys' own fetchLatestWaWebVersion always asks
// web.whatsapp.com, so the service reads WA_VERSION_URL itself, the same way.

export type WhatsAppVersion = [number, number, number]

export type VersionSetting = 'auto' | 'bundled' | WhatsAppVersion

export interface VersionState {
  version: WhatsAppVersion
  // fetched: read from WA_VERSION_URL; bundled: the library's own (fetch off or failed);
  // configured: WA_VERSION names it.
  source: 'fetched' | 'bundled' | 'configured'
  fetchedAt: string | null
  lastError: string | null
}

export interface VersionSourceOptions {
  setting: VersionSetting
  url: string
  timeoutMs: number
  bundled: WhatsAppVersion
  fetch?: typeof fetch
  clock?: () => number
  // Ends a fetch under way early (the service is closing).
  signal?: AbortSignal
}

export interface VersionSource {
  current: () => WhatsAppVersion
  state: () => VersionState
  // Asks WA_VERSION_URL again (only with WA_VERSION=auto); keeps the version in use when that fails.
  refresh: () => Promise<VersionState>
  // The version a new socket announces: the current one once a fetch under way has ended (bounded
  // by timeoutMs), so the service can answer while the first fetch runs and no socket opens with
  // a version about to be replaced.
  settled: () => Promise<WhatsAppVersion>
}

// The same pattern as Baileys' fetchLatestWaWebVersion (Utils/generics.js): sw.js carries the
// revision inside a JSON string, so its quotes may be escaped.
export function parseClientRevision (text: string): WhatsAppVersion | undefined {
  const match = text.match(/\\?"client_revision\\?":\s*(\d+)/)
  return match === null ? undefined : [2, 3000, Number(match[1])]
}

export function parseVersionSetting (value: string): VersionSetting | undefined {
  if (value === 'auto' || value === 'bundled') return value
  const match = /^2\.3000\.(\d+)$/.exec(value)
  return match === null ? undefined : [2, 3000, Number(match[1])]
}

export function createVersionSource (options: VersionSourceOptions): VersionSource {
  const fetchText = options.fetch ?? fetch
  const clock = options.clock ?? Date.now
  let state: VersionState = Array.isArray(options.setting)
    ? { version: options.setting, source: 'configured', fetchedAt: null, lastError: null }
    : { version: options.bundled, source: 'bundled', fetchedAt: null, lastError: null }
  let inFlight: Promise<VersionState> | null = null

  async function fetchVersion (): Promise<VersionState> {
    try {
      const timeout = AbortSignal.timeout(options.timeoutMs)
      const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
      const response = await fetchText(options.url, { signal })
      if (!response.ok) throw new Error(`${options.url} answered ${response.status}`)
      const version = parseClientRevision(await response.text())
      if (version === undefined) throw new Error(`${options.url} holds no client_revision`)
      state = { version, source: 'fetched', fetchedAt: new Date(clock()).toISOString(), lastError: null }
    } catch (error) {
      state = { ...state, lastError: (error as Error).message }
    }
    return state
  }

  return {
    current: () => state.version,
    state: () => ({ ...state }),
    async refresh () {
      if (options.setting !== 'auto') return state
      // Sockets closed with 405 together ask once.
      inFlight ??= fetchVersion().finally(() => { inFlight = null })
      return await inFlight
    },
    async settled () {
      if (inFlight !== null) await inFlight
      return state.version
    }
  }
}
