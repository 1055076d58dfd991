// Header helpers shared by every adapter. Nothing here imports a Node module, so the Fetch
// adapter stays loadable on runtimes without `node:http` (edge runtimes, Deno without Node
// compatibility).

// Headers Node keeps only the first of when a request repeats them (its `matchKnownFields`).
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
])

/**
 * A request header read from `rawHeaders`, exactly as `req.headers[name]` would give it (repeats
 * joined as Node joins them: cookies with '; ', most others with ', ', some first-only; the
 * first `set-cookie`), without making Node build `req.headers`, which it does lazily on first
 * access at a cost of several µs a request. `name` must be lower case.
 */
export function rawHeader(raw: readonly string[], name: string): string | undefined {
  let found: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as string
    if (key.length !== name.length || (key !== name && !equalsLowerCase(key, name))) continue
    const value = raw[i + 1] as string
    if (found === undefined) {
      found = value
      if (FIRST_ONLY.has(name) || name === 'set-cookie') return found
    } else {
      found += name === 'cookie' ? `; ${value}` : `, ${value}`
    }
  }
  return found
}

/**
 * `key.toLowerCase() === lower` for a `lower` of the same length, without allocating the lower-case
 * copy (headers arrive as `Cookie`, `User-Agent`: this runs on every request).
 */
function equalsLowerCase(key: string, lower: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    const l = lower.charCodeAt(i)
    // Only ASCII letters fold: 'A'..'Z' is 0x41..0x5a, 0x20 below its lower case.
    if (c !== l && (c < 0x41 || c > 0x5a || c + 0x20 !== l)) return false
  }
  return true
}

export { addVaryCookie } from '../adapter/vary.ts'
