import { sha1Hex } from '../crypto/hash.ts'
import type { Send } from './redis-clients.ts'

// What RedisStore and RedisRevocationStore share about Lua scripts: each is sent by SHA and
// re-sent in full when the server does not know it (after a SCRIPT FLUSH, a restart or a
// failover), and their array replies are read as strings.

/** A Lua script with its SHA-1, computed once. */
export class Script {
  readonly sha: string
  constructor(readonly source: string) {
    this.sha = sha1Hex(source)
  }
}

/** Runs `script` with EVALSHA, falling back to EVAL on NOSCRIPT; routed by its first key. */
export async function runScript(
  send: Send,
  script: Script,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args]
  try {
    return await send(keys[0], ['EVALSHA', script.sha, ...tail])
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err
    return await send(keys[0], ['EVAL', script.source, ...tail])
  }
}

/** An array reply as strings; no reply is an empty array, anything else is a protocol error. */
export function strings(reply: unknown): string[] {
  if (reply === null || reply === undefined) return []
  if (!Array.isArray(reply)) throw new Error(`unexpected reply from Redis: ${typeof reply}`)
  return reply.map((item) => (typeof item === 'string' ? item : String(item)))
}
