/**
 * Lua run atomically by Redis: the same algorithm as memory-store.ts (see store.ts for the counters).
 * Every key of one org carries the org in a hash tag, so a script touches one slot.
 *
 * The figures of one check travel as one space-separated argument: each argument costs the client
 * (ioredis builds and writes it) and the server (parses it), and a request carries a dozen checks.
 *
 * reserve — KEYS: leases (zset), lease data (hash), then one key per check.
 *   ARGV: now, id, lease expiry, dry run (0|1), then per check "kind limit amount bucketMs buckets
 *   expireAt" (kind w|p|c). Returns ok, then per check: used, reserved, fits, resetMs, retryMs.
 * settle — KEYS: leases, lease data, then window keys, period keys, alert keys (one per period).
 *   ARGV: now, id, window count, period count, then per window "bucket bucketMs buckets delta", per
 *   period "amount softAt expireAt". Returns per period: used, crossed.
 */
const COMMON = `
local now = tonumber(ARGV[1])
local id = ARGV[2]
local leases, leasedata = KEYS[1], KEYS[2]
local function S(x) return string.format('%d', x) end
-- one string.match per argument: cheaper in Lua than a gmatch loop building the table
local function fields(arg)
  return {string.match(arg, '^(%S+) (%S+) (%S+) ?(%S*) ?(%S*) ?(%S*)$')}
end
-- expiries are relative to the caller's clock (replicas' clocks may differ from the Redis server's)
local function expire_at(key, at)
  local ttl = at - now
  if ttl < 1000 then ttl = 1000 end
  redis.call('PEXPIRE', key, S(ttl))
end
local function undo(list)
  for _, u in ipairs(list) do
    local v = redis.call('HINCRBY', u[1], u[2], '-' .. u[3])
    if v <= 0 then redis.call('HDEL', u[1], u[2]) end
  end
end
local function window(key, b, n)
  local idx = math.floor(now / b)
  local cutoff = idx - n
  local h = redis.call('HMGET', key, 'sum', 'lo', 'hi')
  local sum, lo, hi = tonumber(h[1]) or 0, tonumber(h[2]), tonumber(h[3]) or -1
  if hi < cutoff then
    if h[1] or h[3] then redis.call('DEL', key) end
    return idx, cutoff, 0, -1, false
  end
  if lo and lo < cutoff then
    for i = lo, cutoff - 1 do
      local v = redis.call('HGET', key, S(i))
      if v then
        sum = sum - tonumber(v)
        redis.call('HDEL', key, S(i))
      end
    end
    redis.call('HSET', key, 'sum', S(sum), 'lo', S(cutoff))
  end
  return idx, cutoff, sum, hi, true
end
`;

export const RESERVE_LUA = `${COMMON}
local leaseExp = tonumber(ARGV[3])
local dry = ARGV[4] == '1'
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 100)
for _, rid in ipairs(expired) do
  local data = redis.call('HGET', leasedata, rid)
  if data then undo(cjson.decode(data)) end
  redis.call('ZREM', leases, rid)
  redis.call('HDEL', leasedata, rid)
end
local count = #KEYS - 2
local out = {0}
local ok = true
local st = {}
local checks = {}
for c = 1, count do
  local f = fields(ARGV[4 + c])
  checks[c] = f
  local kind, limit, amount = f[1], tonumber(f[2]), tonumber(f[3])
  local key = KEYS[c + 2]
  local used, reserved, fits, reset, retry = 0, 0, true, 0, 0
  if kind == 'w' then
    local b, n = tonumber(f[4]), tonumber(f[5])
    local idx, cutoff, sum, hi, live = window(key, b, n)
    used = sum
    fits = sum + amount <= limit and sum < limit
    if live then reset = (hi + n + 1) * b - now end
    if not fits then
      retry = -1
      if amount <= limit and live then
        local need = sum + math.max(amount, 1) - limit
        local freed = 0
        for i = cutoff, idx do
          freed = freed + (tonumber(redis.call('HGET', key, S(i))) or 0)
          if freed >= need then
            retry = (i + n + 1) * b - now
            break
          end
        end
      end
    end
    st[c] = {idx, cutoff, sum, hi, live}
  elseif kind == 'p' then
    local h = redis.call('HMGET', key, 'used', 'reserved')
    used, reserved = tonumber(h[1]) or 0, tonumber(h[2]) or 0
    st[c] = {h[1] or h[2]}
    fits = used + reserved + amount <= limit and used + reserved < limit
    if not fits then retry = -1 end
  else
    used = tonumber(redis.call('HGET', key, 'n')) or 0
    fits = used + 1 <= limit
    if not fits then retry = -1 end
  end
  if not fits then ok = false end
  out[#out + 1] = used
  out[#out + 1] = reserved
  out[#out + 1] = fits and 1 or 0
  out[#out + 1] = reset
  out[#out + 1] = retry
end
if not ok or dry then return out end
out[1] = 1
local undos = {}
for c = 1, count do
  local f = checks[c]
  local kind, amountArg = f[1], f[3]
  local amount = tonumber(amountArg)
  local key = KEYS[c + 2]
  local o = 1 + (c - 1) * 5
  if kind == 'w' then
    local b, n = tonumber(f[4]), tonumber(f[5])
    local idx, cutoff, sum, hi, live = st[c][1], st[c][2], st[c][3], st[c][4], st[c][5]
    redis.call('HINCRBY', key, S(idx), amountArg)
    -- every call a script makes costs: the expiry only moves when a new sub-bucket starts
    if not live then
      redis.call('HSET', key, 'sum', S(sum + amount), 'hi', S(idx), 'lo', S(cutoff))
      expire_at(key, (idx + n + 2) * b)
    elseif hi ~= idx then
      redis.call('HSET', key, 'sum', S(sum + amount), 'hi', S(idx))
      expire_at(key, (idx + n + 2) * b)
    else
      redis.call('HSET', key, 'sum', S(sum + amount))
    end
    out[o + 1] = sum + amount
    out[o + 4] = (idx + n + 1) * b - now
  elseif kind == 'p' then
    if amount > 0 then
      out[o + 2] = redis.call('HINCRBY', key, 'reserved', amountArg)
      local exp = tonumber(f[6])
      -- a period key's expiry is fixed (its end): set by whoever created the key
      if exp > 0 and not st[c][1] then expire_at(key, exp) end
      undos[#undos + 1] = {key, 'reserved', amountArg}
    end
  else
    out[o + 1] = redis.call('HINCRBY', key, 'n', 1)
    expire_at(key, leaseExp)
    undos[#undos + 1] = {key, 'n', '1'}
  end
end
if #undos > 0 then
  redis.call('ZADD', leases, S(leaseExp), id)
  redis.call('HSET', leasedata, id, cjson.encode(undos))
end
return out
`;

export const SETTLE_LUA = `${COMMON}
local nw, np = tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('ZREM', leases, id) == 1 then
  local data = redis.call('HGET', leasedata, id)
  if data then undo(cjson.decode(data)) end
  redis.call('HDEL', leasedata, id)
end
for w = 1, nw do
  local f = fields(ARGV[4 + w])
  local key = KEYS[2 + w]
  local bucket, b, n, delta = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
  if delta ~= 0 then
    local idx, cutoff, sum, hi, live = window(key, b, n)
    if live and bucket >= cutoff then
      local cur = tonumber(redis.call('HGET', key, S(bucket))) or 0
      local applied = delta
      if cur + delta < 0 then applied = -cur end
      if applied ~= 0 then
        redis.call('HINCRBY', key, S(bucket), S(applied))
        redis.call('HINCRBY', key, 'sum', S(applied))
      end
    end
  end
end
local out = {}
for p = 1, np do
  local f = fields(ARGV[4 + nw + p])
  local key, alertKey = KEYS[2 + nw + p], KEYS[2 + nw + np + p]
  local amount, softAt, exp = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  local used
  if amount > 0 then
    used = redis.call('HINCRBY', key, 'used', f[1])
    -- the first charge may have created the key (its expiry is fixed: the period's end)
    if exp > 0 and used == amount then expire_at(key, exp) end
  else
    used = tonumber(redis.call('HGET', key, 'used')) or 0
  end
  local crossed = 0
  if softAt > 0 and used >= softAt then
    if redis.call('SET', alertKey, '1', 'NX') then
      crossed = 1
      if exp > 0 then expire_at(alertKey, exp) end
    end
  end
  out[#out + 1] = used
  out[#out + 1] = crossed
end
return out
`;
