// PUBLIC_URL may carry the path a reverse proxy publishes the service under
// (https://example.com/wa). A link the service hands out goes below that path:
// new URL('/api/…', 'https://example.com/wa') would resolve to the host's root and drop /wa.
export function publicUrlFor (publicUrl: string, path: string): string {
  const base = new URL(publicUrl)
  base.pathname = base.pathname.replace(/\/*$/, '/')
  base.search = ''
  base.hash = ''
  return new URL(path.replace(/^\/+/, ''), base).toString()
}
