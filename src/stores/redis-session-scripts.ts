import { Script } from './redis-scripts.ts'

// The Lua scripts of RedisStore, one per operation, each atomic on the server. Their KEYS and
// ARGV layouts are written above each; RedisStore builds the arrays to match.

// Every script checks types before its first write: Redis does not roll a script back when a
// command fails half-way, so a failure must come before anything is written.
const TYPE_CHECK = `
local function wrongType(k, want, what)
  if not k then return nil end
  local t = redis.call('TYPE', k)['ok']
  if t ~= 'none' and t ~= want then
    return 'WRONGTYPE the ' .. what .. ' key holds a ' .. t .. ', not a ' .. want
  end
  return nil
end
`

// Reads are scripts too: a client that may read from replicas (ioredis `scaleReads`) still sends
// EVALSHA to the primary, and a lagging replica must neither hide a fresh session from "log out
// everywhere" nor show a destroyed one as alive.
export const GET = new Script(`return redis.call('HGETALL', KEYS[1])`)
export const MEMBERS = new Script(`return redis.call('SMEMBERS', KEYS[1])`)
export const EXISTS = new Script(`return redis.call('EXISTS', KEYS[1])`)

// KEYS: key [, index] [, replaces] [, replacesIndex] [, requires]
// ARGV: mode, ttl, hasIndex, hasReplaces, hasReplacesIndex, hasRequires, member, replacedMember,
//       expectCount, setCount, field, value, … (expectCount pairs), field, value, … (setCount
//       pairs), removed field, …
export const WRITE = new Script(`${TYPE_CHECK}
local key = KEYS[1]
local n = 2
local index, replaces, replacesIndex, requires
if ARGV[3] == '1' then index = KEYS[n]; n = n + 1 end
if ARGV[4] == '1' then replaces = KEYS[n]; n = n + 1 end
if ARGV[5] == '1' then replacesIndex = KEYS[n]; n = n + 1 end
if ARGV[6] == '1' then requires = KEYS[n] end
local bad = wrongType(key, 'hash', 'record') or wrongType(index, 'set', 'index')
  or wrongType(replacesIndex, 'set', 'replaced index')
if bad then return redis.error_reply(bad) end
local exists = redis.call('EXISTS', key)
if ARGV[1] == 'create' and exists == 1 then return 0 end
if ARGV[1] == 'update' and exists == 0 then return 0 end
if requires and redis.call('EXISTS', requires) == 0 then return 0 end
local expectLast = 10 + 2 * tonumber(ARGV[9])
for i = 11, expectLast, 2 do
  if redis.call('HGET', key, ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
local ttl = tonumber(ARGV[2])
local last = expectLast + 2 * tonumber(ARGV[10])
for i = expectLast + 1, last, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV do redis.call('HDEL', key, ARGV[i]) end
if replaces then
  redis.call('DEL', replaces)
  if replacesIndex then redis.call('SREM', replacesIndex, ARGV[8]) end
end
if redis.call('EXISTS', key) == 0 then return 1 end
redis.call('EXPIRE', key, ttl)
if index then
  redis.call('SADD', index, ARGV[7])
  if redis.call('PTTL', index) < ttl * 1000 then redis.call('PEXPIRE', index, ttl * 1000) end
end
return 1
`)

// KEYS: index. ARGV: member, ttl. (Cluster mode, index in another slot than its record.)
export const ADD_TO_INDEX = new Script(`${TYPE_CHECK}
local bad = wrongType(KEYS[1], 'set', 'index')
if bad then return redis.error_reply(bad) end
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl * 1000 then redis.call('PEXPIRE', KEYS[1], ttl * 1000) end
return 1
`)

// KEYS: key. ARGV: ttl, field, value, …
export const TOUCH = new Script(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then return 0 end
if t ~= 'hash' then return redis.error_reply('WRONGTYPE the record key holds a ' .. t .. ', not a hash') end
redis.call('EXPIRE', KEYS[1], ARGV[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`)

// KEYS: key [, index]. ARGV: member.
export const DESTROY = new Script(`${TYPE_CHECK}
local bad = wrongType(KEYS[2], 'set', 'index')
if bad then return redis.error_reply(bad) end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
`)

// KEYS: index, record, …  ARGV: member, … (one per record). Returns the living members.
export const PRUNE = new Script(`
local alive = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then alive[#alive + 1] = ARGV[i - 1]
  else redis.call('SREM', KEYS[1], ARGV[i - 1]) end
end
return alive
`)

// KEYS: index, record, …  ARGV: member, …  Returns how many records existed and were deleted.
export const DESTROY_MANY = new Script(`
local n = 0
for i = 2, #KEYS do
  n = n + redis.call('DEL', KEYS[i])
  redis.call('SREM', KEYS[1], ARGV[i - 1])
end
return n
`)
