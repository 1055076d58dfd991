import { REVOCATION_ID, type RevocationEntry } from '../session/revocations.ts'
import { Script } from './redis-scripts.ts'

// The Lua scripts of RedisRevocationStore and the formats they speak: the message ADD publishes
// and the id, expiry pairs SINCE and ZSCAN return. Both are read defensively: whatever is
// malformed is skipped, never trusted.

/** Ids revoked less than this long ago are kept in the log that resyncs read (milliseconds). */
const LOG_HORIZON_MS = 3_600_000

// Types are checked before the first write: Redis does not roll a script back half-way.
const checkTypes = (keys: string) => `
for _, k in ipairs(${keys}) do
  local t = redis.call('TYPE', k)['ok']
  if t ~= 'none' and t ~= 'zset' then
    return redis.error_reply('WRONGTYPE ' .. k .. ' holds a ' .. t .. ', not a sorted set')
  end
end
`

// KEYS: expiries (id → expiry, seconds), log (id → revoked at, ms).
// ARGV: channel, maxEntries, id, expiry, id, expiry, …
// Adds or extends each entry, logs it, drops what expired or is past the cap, publishes.
export const ADD = new Script(`${checkTypes('KEYS')}
local time = redis.call('TIME')
local now = tonumber(time[1])
local nowMs = now * 1000 + math.floor(tonumber(time[2]) / 1000)
local parts = {}
for i = 3, #ARGV, 2 do
  local id, expiry = ARGV[i], tonumber(ARGV[i + 1])
  if expiry and expiry > now then
    local known = redis.call('ZSCORE', KEYS[1], id)
    if not known or tonumber(known) < expiry then redis.call('ZADD', KEYS[1], expiry, id) end
    redis.call('ZADD', KEYS[2], nowMs, id)
    parts[#parts + 1] = id .. ':' .. ARGV[i + 1]
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
if #expired > 0 then
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('ZREM', KEYS[2], unpack(expired))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs - ${LOG_HORIZON_MS})
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
while over > 0 do
  local victims = redis.call('ZRANGE', KEYS[1], 0, math.min(over, 1000) - 1)
  redis.call('ZREM', KEYS[1], unpack(victims))
  redis.call('ZREM', KEYS[2], unpack(victims))
  over = over - #victims
end
if #parts > 0 then redis.call('PUBLISH', ARGV[1], table.concat(parts, ',')) end
return #parts
`)

// KEYS: expiries, log, epoch. ARGV: since (ms), limit, epoch.
// Returns the server time (ms), 'reset' when the epoch changed (Redis lost its data), 'stale'
// when the log does not reach back that far, or 'ok' then id, expiry, …
export const SINCE = new Script(`${checkTypes('{ KEYS[1], KEYS[2] }')}
local time = redis.call('TIME')
local now = tonumber(time[1])
local nowMs = now * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return { tostring(nowMs), 'reset' } end
local since = tonumber(ARGV[1])
if since < nowMs - ${LOG_HORIZON_MS} then return { tostring(nowMs), 'stale' } end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], since, '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
if #ids >= tonumber(ARGV[2]) then return { tostring(nowMs), 'stale' } end
local out = { tostring(nowMs), 'ok' }
for _, id in ipairs(ids) do
  local expiry = redis.call('ZSCORE', KEYS[1], id)
  if expiry and tonumber(expiry) > now then
    out[#out + 1] = id
    out[#out + 1] = expiry
  end
end
return out
`)

// KEYS: epoch. ARGV: a new epoch, kept only if there is none. Returns the server time (seconds,
// ms) and the epoch: a random value that changes when Redis loses its data.
export const START = new Script(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local time = redis.call('TIME')
local now = tonumber(time[1])
return {
  tostring(now),
  tostring(now * 1000 + math.floor(tonumber(time[2]) / 1000)),
  redis.call('GET', KEYS[1]),
}
`)

/** `id:expiry,id:expiry,…` as published by the add script; anything malformed is skipped. */
export function parseMessage(message: unknown): RevocationEntry[] {
  if (typeof message !== 'string') return []
  const entries: RevocationEntry[] = []
  for (const part of message.split(',')) {
    const colon = part.indexOf(':')
    const id = part.slice(0, colon)
    const expiresAt = Number(part.slice(colon + 1))
    if (colon > 0 && REVOCATION_ID.test(id) && Number.isSafeInteger(expiresAt)) {
      entries.push({ id, expiresAt })
    }
  }
  return entries
}

/** `[id, expiry, id, expiry, …]` from `from` on; malformed pairs are skipped. */
export function pairs(flat: readonly string[], from: number): RevocationEntry[] {
  const entries: RevocationEntry[] = []
  for (let i = from; i + 1 < flat.length; i += 2) {
    const id = flat[i] as string
    const expiresAt = Number(flat[i + 1])
    if (REVOCATION_ID.test(id) && Number.isFinite(expiresAt)) entries.push({ id, expiresAt })
  }
  return entries
}
