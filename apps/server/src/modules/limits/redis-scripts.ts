/**
 * Lua run atomically by Redis: the same algorithm as memory-store.ts (see store.ts for the counters).
 * Every key of one org carries the org in a hash tag, so a script touches one slot.
 *
 * One script runs a batch of reserves and settles of one org, in order, each exactly as if it ran
 * alone. What makes a batch cheap is the cache below: a field read by many operations is fetched
 * once (one HMGET per key for everything the batch is known to need), and each key is written once
 * at the end. A redis.call costs about a microsecond; a request makes ~30 counter reads and writes,
 * so under load most of a script's time was these calls, not the arithmetic.
 *
 * KEYS: leases (zset), lease data (hash), then every counter key of the batch once.
 * ARGV: per operation a header, then its items (the figures of an item are one space-separated
 * argument: each argument costs the client and the server; "k" is an index into KEYS):
 *   reserve  "r now id leaseExpiry dryRun(0|1) n", then n × "kind limit amount bucketMs buckets expireAt k"
 *            (kind w|p|c)
 *   settle   "s now id nw np", then nw × "k bucket bucketMs buckets delta",
 *            then np × "k alertK amount softAt expireAt"
 * Returns, per operation in order: reserve: ok, then per check used, reserved, fits, resetMs,
 * retryMs; settle: per period used, crossed.
 *
 * The key layout and field names are those of the one-operation scripts this replaced, so replicas
 * of both versions share counters during a rolling upgrade.
 */
export const BATCH_LUA = `
local leases, leasedata = KEYS[1], KEYS[2]
local function S(x) return string.format('%d', x) end
-- one string.match per argument: cheaper in Lua than a gmatch loop building the table
local function fields(arg)
  return {string.match(arg, '^(%S+) ?(%S*) ?(%S*) ?(%S*) ?(%S*) ?(%S*) ?(%S*)$')}
end

-- The cache: per key, the fields read (false: absent) and written, and the expiry to set.
local cache, order = {}, {}
local function entry(key)
  local e = cache[key]
  if not e then
    e = {v = {}, dirty = {}, names = {}}
    cache[key] = e
    order[#order + 1] = key
  end
  return e
end
local function want(key, f)
  local e = entry(key)
  if e.v[f] == nil and not e.names[f] then
    e.names[f] = true
    e.names[#e.names + 1] = f
  end
end
local function fetch(key)
  local e = cache[key]
  local names = {}
  for _, f in ipairs(e.names) do
    if e.v[f] == nil then names[#names + 1] = f end
  end
  e.names = {}
  if #names == 0 then return end
  if e.wiped then
    for _, f in ipairs(names) do e.v[f] = false end
    return
  end
  local got = redis.call('HMGET', key, unpack(names))
  for i, f in ipairs(names) do e.v[f] = tonumber(got[i]) or false end
end
local function has(key, f)
  local e = entry(key)
  local v = e.v[f]
  if v == nil then
    v = false
    if not e.wiped then v = tonumber(redis.call('HGET', key, f)) or false end
    e.v[f] = v
  end
  return v ~= false
end
local function get(key, f)
  has(key, f)
  return cache[key].v[f] or 0
end
local function put(key, f, x)
  local e = entry(key)
  e.v[f] = x
  e.dirty[f] = true
end
-- the key is gone: DEL at the end, and every field reads as absent until written
local function wipe(key)
  local e = entry(key)
  e.v, e.dirty, e.wiped = {}, {}, true
end
-- expiries are relative to the caller's clock (replicas' clocks may differ from the Redis server's)
local function expire_at(key, at, now)
  local ttl = at - now
  if ttl < 1000 then ttl = 1000 end
  local e = entry(key)
  if not e.ttl or ttl > e.ttl then e.ttl = ttl end
end
local function undo(list)
  for _, u in ipairs(list) do put(u[1], u[2], get(u[1], u[2]) - tonumber(u[3])) end
end
local function window(key, b, n, now)
  local idx = math.floor(now / b)
  local cutoff = idx - n
  local sum, hi = get(key, 'sum'), get(key, 'hi')
  if not has(key, 'hi') or hi < cutoff then
    if has(key, 'sum') or has(key, 'hi') then wipe(key) end
    return idx, cutoff, 0, -1, false
  end
  if has(key, 'lo') and get(key, 'lo') < cutoff then
    local lo = get(key, 'lo')
    for i = lo, cutoff - 1 do want(key, S(i)) end
    fetch(key)
    for i = lo, cutoff - 1 do
      local v = get(key, S(i))
      if v ~= 0 then
        sum = sum - v
        put(key, S(i), 0)
      end
    end
    put(key, 'sum', sum)
    put(key, 'lo', cutoff)
  end
  return idx, cutoff, sum, hi, true
end

-- 1. parse every operation
local ops = {}
local sweepAt = nil
local a = 1
while a <= #ARGV do
  local h = fields(ARGV[a])
  local op = {h = h, items = {}}
  local count
  if h[1] == 'r' then
    count = tonumber(h[6])
    local now = tonumber(h[2])
    if not sweepAt or now > sweepAt then sweepAt = now end
  else
    count = tonumber(h[4]) + tonumber(h[5])
  end
  for i = 1, count do op.items[i] = fields(ARGV[a + i]) end
  ops[#ops + 1] = op
  a = a + count + 1
end

-- 2. the leases this batch gives back: expired ones (swept when the batch reserves) and settled ones
local expired = {}
if sweepAt then expired = redis.call('ZRANGEBYSCORE', leases, '-inf', sweepAt, 'LIMIT', 0, 100) end
local ids = {}
for _, id in ipairs(expired) do ids[#ids + 1] = id end
for _, op in ipairs(ops) do
  if op.h[1] == 's' then ids[#ids + 1] = op.h[3] end
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
  local h = op.h
  if h[1] == 'r' then
    local now = tonumber(h[2])
    for _, f in ipairs(op.items) do
      local key = KEYS[tonumber(f[7])]
      if f[1] == 'w' then
        want(key, 'sum') want(key, 'lo') want(key, 'hi')
        want(key, S(math.floor(now / tonumber(f[4]))))
      elseif f[1] == 'p' then
        want(key, 'used') want(key, 'reserved')
      else
        want(key, 'n')
      end
    end
  else
    local nw = tonumber(h[4])
    for i, f in ipairs(op.items) do
      local key = KEYS[tonumber(f[1])]
      if i <= nw then
        want(key, 'sum') want(key, 'lo') want(key, 'hi') want(key, f[2])
      else
        want(key, 'used') want(key, 'reserved')
      end
    end
  end
end
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
  local h, items = op.h, op.items
  local now, id, leaseExp, dry = tonumber(h[2]), h[3], tonumber(h[4]), h[5] == '1'
  local base = #res
  res[base + 1] = 0
  local ok = true
  local st = {}
  for c, f in ipairs(items) do
    local kind, limit, amount = f[1], tonumber(f[2]), tonumber(f[3])
    local key = KEYS[tonumber(f[7])]
    local used, reserved, fits, reset, retry = 0, 0, true, 0, 0
    if kind == 'w' then
      local b, n = tonumber(f[4]), tonumber(f[5])
      local idx, cutoff, sum, hi, live = window(key, b, n, now)
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
            freed = freed + get(key, S(i))
            if freed >= need then
              retry = (i + n + 1) * b - now
              break
            end
          end
        end
      end
      st[c] = {idx, cutoff, hi, live}
    elseif kind == 'p' then
      used, reserved = get(key, 'used'), get(key, 'reserved')
      st[c] = {has(key, 'used') or has(key, 'reserved')}
      fits = used + reserved + amount <= limit and used + reserved < limit
      if not fits then retry = -1 end
    else
      used = get(key, 'n')
      fits = used + 1 <= limit
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
  for c, f in ipairs(items) do
    local kind, amount = f[1], tonumber(f[3])
    local key = KEYS[tonumber(f[7])]
    local o = base + 1 + (c - 1) * 5
    if kind == 'w' then
      local b, n = tonumber(f[4]), tonumber(f[5])
      local idx, cutoff, hi, live = st[c][1], st[c][2], st[c][3], st[c][4]
      put(key, S(idx), get(key, S(idx)) + amount)
      local sum = get(key, 'sum') + amount
      put(key, 'sum', sum)
      -- the expiry only moves when a new sub-bucket starts
      if not live then
        put(key, 'hi', idx)
        put(key, 'lo', cutoff)
        expire_at(key, (idx + n + 2) * b, now)
      elseif hi ~= idx then
        put(key, 'hi', idx)
        expire_at(key, (idx + n + 2) * b, now)
      end
      res[o + 1] = sum
      res[o + 4] = (idx + n + 1) * b - now
    elseif kind == 'p' then
      if amount > 0 then
        local r = get(key, 'reserved') + amount
        put(key, 'reserved', r)
        res[o + 2] = r
        local exp = tonumber(f[6])
        -- a period key's expiry is fixed (its end): set by whoever created the key
        if exp > 0 and not st[c][1] then expire_at(key, exp, now) end
        undos[#undos + 1] = {key, 'reserved', f[3]}
      end
    else
      local v = get(key, 'n') + 1
      put(key, 'n', v)
      res[o + 1] = v
      expire_at(key, leaseExp, now)
      undos[#undos + 1] = {key, 'n', '1'}
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
  local h, items = op.h, op.items
  local now, id, nw = tonumber(h[2]), h[3], tonumber(h[4])
  if held[id] then
    undo(held[id])
    held[id] = false
    gone[#gone + 1] = id
  end
  for i = 1, nw do
    local f = items[i]
    local key = KEYS[tonumber(f[1])]
    local bucket, b, n, delta = tonumber(f[2]), tonumber(f[3]), tonumber(f[4]), tonumber(f[5])
    if delta ~= 0 then
      local idx, cutoff, sum, hi, live = window(key, b, n, now)
      if live and bucket >= cutoff then
        local cur = get(key, f[2])
        local applied = delta
        if cur + delta < 0 then applied = -cur end
        if applied ~= 0 then
          put(key, f[2], cur + applied)
          put(key, 'sum', get(key, 'sum') + applied)
        end
      end
    end
  end
  for i = nw + 1, #items do
    local f = items[i]
    local key, alertKey = KEYS[tonumber(f[1])], KEYS[tonumber(f[2])]
    local amount, softAt, exp = tonumber(f[3]), tonumber(f[4]), tonumber(f[5])
    local used = get(key, 'used')
    if amount > 0 then
      used = used + amount
      put(key, 'used', used)
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
  if op.h[1] == 'r' then reserve(op) else settle(op) end
end

-- 5. write each key once
for _, key in ipairs(order) do
  local e = cache[key]
  if e.wiped then redis.call('DEL', key) end
  local sets, dels = {}, {}
  for f in pairs(e.dirty) do
    local x = e.v[f]
    if x and x > 0 then
      sets[#sets + 1] = f
      sets[#sets + 1] = S(x)
    elseif not e.wiped then
      dels[#dels + 1] = f
    end
  end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
  if e.ttl and #sets > 0 then redis.call('PEXPIRE', key, S(e.ttl)) end
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
