// A strict reader of the Prometheus text exposition format (0.0.4): every line must be a HELP or
// TYPE comment or a well-formed sample, every sample must belong to a declared metric family.
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const samplePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/
const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy
const types = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

// As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case; prom-client writes "Nan".
function parseValue (text: string, line: string): number {
  if (/^\+?inf$/i.test(text)) return Infinity
  if (/^-inf$/i.test(text)) return -Infinity
  if (/^nan$/i.test(text)) return NaN
  if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) throw new Error(`bad sample value in: ${line}`)
  return Number(text)
}

function parseLabels (text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  labelPattern.lastIndex = 0
  let consumed = 0
  for (let match = labelPattern.exec(text); match !== null; match = labelPattern.exec(text)) {
    labels[match[1]] = match[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    consumed = labelPattern.lastIndex
  }
  if (consumed !== text.length) throw new Error(`bad labels in: ${line}`)
  return labels
}

export function parsePrometheusText (text: string): Sample[] {
  const families = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (comment !== null) {
      if (comment[1] === 'TYPE') {
        if (!types.has(comment[3])) throw new Error(`unknown metric type in: ${line}`)
        families.set(comment[2], comment[3])
      }
      continue
    }
    const match = samplePattern.exec(line)
    if (match === null) throw new Error(`not a sample line: ${line}`)
    const [, name, labelText, valueText] = match
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((candidate) => families.has(candidate))
    if (family === undefined) throw new Error(`sample of an undeclared metric: ${line}`)
    samples.push({ name, labels: labelText === undefined ? {} : parseLabels(labelText, line), value: parseValue(valueText, line) })
  }
  return samples
}

// The value of the one sample with that name and (at least) those labels; 0 when there is none.
export function sampleValue (samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const matching = samples.filter((sample) =>
    sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return matching[0]?.value ?? 0
}
