/**
 * Lua run atomically by Redis: the same algorithm as memory-store.ts (see store.ts for the counters).
 * Every key of one org carries the org in a hash tag, so a script touches one slot.
 *
 * One script runs a batch of reserves and settles of one org, in order, each exactly as if it ran
 * alone. What makes a batch cheap is the field cache: everything the batch is known to need is
 * fetched with one HMGET per key, operations then work on Lua tables, and each key is written once
 * at the end. A redis.call costs one to three microseconds and a request touches ~30 counter fields,
 * so with one script per operation most of the time went to these calls.
 *
 * KEYS: leases (zset), lease data (hash), then every counter key of the batch once.
 * ARGV: one JSON array per operation (one C call decodes it; "k" is an index into KEYS, "field" the
 * sub-bucket's field name):
 *   reserve  ["r", now, id, leaseExpiry, dryRun 0|1, [[kind, limit, amount, bucketMs, buckets, expireAt, k, field], …]]
 *            (kind "w" window, "p" period, "c" concurrency, amount = slots, at least 1; bucketMs,
 *            buckets and field only for windows)
 *   settle   ["s", now, id, [[k, field, bucketMs, buckets, delta], …], [[k, alertK, amount, softAt, expireAt], …]]
 * Returns, per operation in order: reserve: ok, then per check used, reserved, fits, resetMs,
 * retryMs; settle: per period used, crossed.
 *
 * Keys and field names are those of the earlier one-operation scripts, so replicas of both versions
 * share counters during a rolling upgrade. A concurrency counter also keeps "x", the expiry last
 * set on it, so its key's TTL moves once per lease length instead of on every reserve.
 */
export const BATCH_LUA = `
local leases, leasedata = KEYS[1], KEYS[2]
local function S(x) return string.format('%d', x) end

-- The field cache. V[key]: field -> number, or false when absent; a field nobody fetched is read
-- on first use (HGET), so a miss costs a call, never a wrong answer. D[key]: fields written.
local V, D, WIPED, TTL, order = {}, {}, {}, {}, {}
local function values(key)
  local t = V[key]
  if t then return t end
  t = setmetatable({}, {__index = function(t, f)
    local v = false
    if not WIPED[key] then v = tonumber(redis.call('HGET', key, f)) or false end
    rawset(t, f, v)
    return v
  end})
  V[key], D[key] = t, {}
  order[#order + 1] = key
  return t
end
local WANT = {}
local function want(key, f)
  local w = WANT[key]
  if not w then
    w = {}
    WANT[key] = w
  end
  if not w[f] then
    w[f] = true
    w[#w + 1] = f
  end
end
local function fetch(key)
  local w = WANT[key]
  if not w then return end
  WANT[key] = nil
  local t = values(key)
  local names = {}
  for _, f in ipairs(w) do
    if rawget(t, f) == nil then names[#names + 1] = f end
  end
  if #names == 0 then return end
  if WIPED[key] then
    for _, f in ipairs(names) do rawset(t, f, false) end
    return
  end
  local got = redis.call('HMGET', key, unpack(names))
  for i, f in ipairs(names) do rawset(t, f, tonumber(got[i]) or false) end
end
-- the key is gone: DEL at the end, and every field reads as absent until written
local function wipe(key)
  values(key)
  WIPED[key] = true
  local t = V[key]
  for f in pairs(t) do rawset(t, f, false) end
  D[key] = {}
end
-- expiries are relative to the caller's clock (replicas' clocks may differ from the Redis server's)
local function expire_at(key, at, now)
  local ttl = at - now
  if ttl < 1000 then ttl = 1000 end
  if not TTL[key] or ttl > TTL[key] then TTL[key] = ttl end
end
local function undo(list)
  for _, u in ipairs(list) do
    local t = values(u[1])
    t[u[2]] = (t[u[2]] or 0) - tonumber(u[3])
    D[u[1]][u[2]] = true
  end
end
-- Drops the sub-buckets that left the window; returns cutoff, sum, hi, live.
local function window(key, t, idx, n)
  local cutoff = idx - n
  local hi = t.hi
  if not hi or hi < cutoff then
    if t.sum or hi then wipe(key) end
    return cutoff, 0, -1, false
  end
  local sum, lo = t.sum or 0, t.lo
  if lo and lo < cutoff then
    for i = lo, cutoff - 1 do want(key, S(i)) end
    fetch(key)
    local d = D[key]
    for i = lo, cutoff - 1 do
      local f = S(i)
      local v = t[f]
      if v then
        sum = sum - v
        t[f] = false
        d[f] = true
      end
    end
    t.sum, t.lo = sum, cutoff
    d.sum, d.lo = true, true
  end
  return cutoff, sum, hi, true
end

-- 1. decode every operation
local ops = {}
local sweepAt = nil
for i = 1, #ARGV do
  local op = cjson.decode(ARGV[i])
  ops[i] = op
  if op[1] == 'r' and (not sweepAt or op[2] > sweepAt) then sweepAt = op[2] end
end

-- 2. the leases this batch gives back: expired ones (swept when the batch reserves) and settled ones
local expired = {}
if sweepAt then expired = redis.call('ZRANGEBYSCORE', leases, '-inf', S(sweepAt), 'LIMIT', 0, 100) end
local ids = {}
for _, id in ipairs(expired) do ids[#ids + 1] = id end
for _, op in ipairs(ops) do
  if op[1] == 's' then ids[#ids + 1] = op[3] end
end
local held = {}
if #ids > 0 then
  local got = redis.call('HMGET', leasedata, unpack(ids))
  for i, id in ipairs(ids) do
    if got[i] and held[id] == nil then held[id] = cjson.decode(got[i]) end
  end
end

-- 3. fetch what the batch is known to need, one HMGET per key
for _, list in pairs(held) do
  for _, u in ipairs(list) do want(u[1], u[2]) end
end
for _, op in ipairs(ops) do
  if op[1] == 'r' then
    for _, c in ipairs(op[6]) do
      local key = KEYS[c[7]]
      if c[1] == 'w' then
        want(key, 'sum') want(key, 'lo') want(key, 'hi') want(key, c[8])
      elseif c[1] == 'p' then
        want(key, 'used') want(key, 'reserved')
      else
        want(key, 'n') want(key, 'x')
      end
    end
  else
    for _, w in ipairs(op[4]) do
      local key = KEYS[w[1]]
      want(key, 'sum') want(key, 'lo') want(key, 'hi') want(key, w[2])
    end
    for _, p in ipairs(op[5]) do
      local key = KEYS[p[1]]
      want(key, 'used') want(key, 'reserved')
    end
  end
end
for key in pairs(WANT) do values(key) end
for _, key in ipairs(order) do fetch(key) end

-- 4. sweep, then run the operations in order
local gone = {}
for _, id in ipairs(expired) do
  if held[id] then undo(held[id]) end
  held[id] = false
  gone[#gone + 1] = id
end
local res = {}
local newLeases, newData = {}, {}

local function reserve(op)
  local now, id, leaseExp, dry, checks = op[2], op[3], op[4], op[5] == 1, op[6]
  local base = #res
  res[base + 1] = 0
  local ok = true
  local st = {}
  for c, ch in ipairs(checks) do
    local kind, limit, amount = ch[1], ch[2], ch[3]
    local key = KEYS[ch[7]]
    local t = values(key)
    local used, reserved, fits, reset, retry = 0, 0, true, 0, 0
    if kind == 'w' then
      local b, n = ch[4], ch[5]
      local idx = math.floor(now / b)
      local cutoff, sum, hi, live = window(key, t, idx, n)
      used = sum
      fits = sum + amount <= limit and sum < limit
      if live then reset = (hi + n + 1) * b - now end
      if not fits then
        retry = -1
        if amount <= limit and live then
          local need = sum + math.max(amount, 1) - limit
          local freed = 0
          for i = cutoff, idx do want(key, S(i)) end
          fetch(key)
          for i = cutoff, idx do
            freed = freed + (t[S(i)] or 0)
            if freed >= need then
              retry = (i + n + 1) * b - now
              break
            end
          end
        end
      end
      st[c] = {idx, cutoff, hi, live}
    elseif kind == 'p' then
      used, reserved = t.used or 0, t.reserved or 0
      st[c] = (t.used or 0) > 0 or (t.reserved or 0) > 0
      fits = used + reserved + amount <= limit and used + reserved < limit
      if not fits then retry = -1 end
    else
      used = t.n or 0
      fits = used + math.max(amount, 1) <= limit
      if not fits then retry = -1 end
    end
    if not fits then ok = false end
    res[#res + 1] = used
    res[#res + 1] = reserved
    res[#res + 1] = fits and 1 or 0
    res[#res + 1] = reset
    res[#res + 1] = retry
  end
  if not ok or dry then return end
  res[base + 1] = 1
  local undos = {}
  for c, ch in ipairs(checks) do
    local kind, amount = ch[1], ch[3]
    local key = KEYS[ch[7]]
    local t, d = V[key], D[key]
    local o = base + 1 + (c - 1) * 5
    if kind == 'w' then
      local b, n, f = ch[4], ch[5], ch[8]
      local s = st[c]
      local idx, cutoff, hi, live = s[1], s[2], s[3], s[4]
      t[f] = (t[f] or 0) + amount
      local sum = (t.sum or 0) + amount
      t.sum = sum
      d[f], d.sum = true, true
      -- the expiry only moves when a new sub-bucket starts
      if not live then
        t.hi, t.lo = idx, cutoff
        d.hi, d.lo = true, true
        expire_at(key, (idx + n + 2) * b, now)
      elseif hi ~= idx then
        t.hi = idx
        d.hi = true
        expire_at(key, (idx + n + 2) * b, now)
      end
      res[o + 1] = sum
      res[o + 4] = (idx + n + 1) * b - now
    elseif kind == 'p' then
      if amount > 0 then
        local r = (t.reserved or 0) + amount
        t.reserved = r
        d.reserved = true
        res[o + 2] = r
        -- a period key's expiry is fixed (its end): set by whoever created the key
        if ch[6] > 0 and not st[c] then expire_at(key, ch[6], now) end
        undos[#undos + 1] = {key, 'reserved', S(amount)}
      end
    else
      local slots = math.max(amount, 1)
      local v = (t.n or 0) + slots
      t.n = v
      d.n = true
      res[o + 1] = v
      -- the key outlives every lease on it; its TTL moves when a lease would outlast it
      if (t.x or 0) < leaseExp then
        local x = leaseExp + (leaseExp - now)
        t.x = x
        d.x = true
        expire_at(key, x, now)
      end
      undos[#undos + 1] = {key, 'n', S(slots)}
    end
  end
  if #undos > 0 then
    newLeases[#newLeases + 1] = S(leaseExp)
    newLeases[#newLeases + 1] = id
    newData[#newData + 1] = id
    newData[#newData + 1] = cjson.encode(undos)
  end
end

local alerted = {}
local function settle(op)
  local now, id = op[2], op[3]
  if held[id] then
    undo(held[id])
    held[id] = false
    gone[#gone + 1] = id
  end
  for _, w in ipairs(op[4]) do
    local delta = w[5]
    if delta ~= 0 then
      local key, f, b, n = KEYS[w[1]], w[2], w[3], w[4]
      local t = values(key)
      local cutoff, sum, hi, live = window(key, t, math.floor(now / b), n)
      if live and tonumber(f) >= cutoff then
        local cur = t[f] or 0
        local applied = delta
        if cur + delta < 0 then applied = -cur end
        if applied ~= 0 then
          local d = D[key]
          t[f] = cur + applied
          t.sum = (t.sum or 0) + applied
          d[f], d.sum = true, true
        end
      end
    end
  end
  for _, p in ipairs(op[5]) do
    local key, alertKey, amount, softAt, exp = KEYS[p[1]], KEYS[p[2]], p[3], p[4], p[5]
    local t = values(key)
    local used = t.used or 0
    if amount > 0 then
      used = used + amount
      t.used = used
      D[key].used = true
      -- the first charge may have created the key (its expiry is fixed: the period's end)
      if exp > 0 and used == amount then expire_at(key, exp, now) end
    end
    local crossed = 0
    if softAt > 0 and used >= softAt and not alerted[alertKey] then
      alerted[alertKey] = true
      if redis.call('SET', alertKey, '1', 'NX') then
        crossed = 1
        if exp > 0 then
          local ttl = exp - now
          if ttl < 1000 then ttl = 1000 end
          redis.call('PEXPIRE', alertKey, S(ttl))
        end
      end
    end
    res[#res + 1] = used
    res[#res + 1] = crossed
  end
end

for _, op in ipairs(ops) do
  if op[1] == 'r' then reserve(op) else settle(op) end
end

-- 5. write each key once
for _, key in ipairs(order) do
  local t, wiped = V[key], WIPED[key]
  if wiped then redis.call('DEL', key) end
  local sets, dels = {}, {}
  for f in pairs(D[key]) do
    local x = rawget(t, f)
    if x and x > 0 then
      sets[#sets + 1] = f
      sets[#sets + 1] = S(x)
    elseif not wiped then
      dels[#dels + 1] = f
    end
  end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
  if TTL[key] and #sets > 0 then redis.call('PEXPIRE', key, S(TTL[key])) end
end
if #newLeases > 0 then
  redis.call('ZADD', leases, unpack(newLeases))
  redis.call('HSET', leasedata, unpack(newData))
end
if #gone > 0 then
  redis.call('ZREM', leases, unpack(gone))
  redis.call('HDEL', leasedata, unpack(gone))
end
return res
`;
