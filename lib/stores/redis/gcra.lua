-- nest-limiter: GCRA over every policy of one request, in one atomic call.
-- The parts that change state are lib/core/gcra.ts line for line (same names, same order, same
-- float operations): `step` (admit and charge, all or nothing), `cancel`, `settle`. What a client
-- is told (remaining, retryAfterMs, resetMs, delayMs) is derived from the state the script read
-- and the `now` it used, so RedisStore computes it with lib/core's `outcome` from this reply, as
-- MemoryStore does: the script does no work whose result nobody stores.
-- test/redis/differential.spec.ts checks both halves against lib/core.
--
-- KEYS[i]   the state of entry i: its tat as text (no key: no state, the same as any tat <= now).
-- ARGV[1]   'decide' | 'peek' | 'cancel' | 'settle'; then one group of arguments per key:
--   decide:        shape, mode, emissionMs, tauMs, maxWaitMs, cost
--   peek:          nothing (the state is read, and time)
--   cancel:        reservedTat, increment
--   settle:        shape, mode, emissionMs, reservedTat, deltaUnits
-- Numbers travel as text both ways: JS String(x) and '%.17g' both round-trip a double exactly,
-- whereas Lua's tostring keeps 14 digits and a Lua number returned to Redis becomes an integer.
-- Infinity travels as 'inf' (what '%.17g' prints for math.huge).
-- Reply: decide: { now, charged (1/0), then per key the tat it read ('' for none) };
--        peek: { now, then per key the tat it read }; cancel, settle: { now }.

-- Time is Redis server time only, never a client's clock, so skew between app servers cannot
-- change a decision. It is rebased to 2026-01-01 (as go-redis/redis_rate rebases to 2017): a
-- double holds 53 bits, so ms since 1970 (~2^41) are only kept to 2^-12 ms, while ms since 2026
-- stay below 2^40 until 2060, i.e. to 2^-13 ms or better (2^-18 ms this year): tat sums keep
-- sub-microsecond precision. The epoch can never change: stored tats are relative to it.
local EPOCH_S = 1767225600
local EPOCH_MS = EPOCH_S * 1000

-- Slack for float comparisons, in ms: lib/core/gcra.ts EPSILON_MS.
local EPSILON_MS = 1e-6

-- Keys expire at their tat; beyond ~285,000 years (2^53 ms) they expire early, which only forgets
-- a debt nobody will live to collect.
local MAX_EXPIRY_MS = 2 ^ 53

local function num(text)
  if text == 'inf' then return math.huge end
  return tonumber(text)
end

local function text(x)
  return string.format('%.17g', x)
end

local function aheadMs(policy, increment)
  if policy.mode == 'reject' then return policy.tauMs end
  if policy.shape == 'token-bucket' then return policy.tauMs + policy.maxWaitMs end
  return math.min(policy.tauMs, policy.maxWaitMs + increment)
end

local function startOf(tat, now)
  -- A tat within EPSILON of now counts as now (rounding must not compound on back-to-back slots).
  if tat == nil or tat - now <= EPSILON_MS then return now end
  return tat
end

local function step(tat, now, policy, cost)
  local base = startOf(tat, now)
  local increment = cost * policy.emissionMs
  local newTat = base + increment
  local ahead = aheadMs(policy, increment)
  local admits = newTat - now <= ahead + EPSILON_MS
  return { base = base, newTat = newTat, aheadMs = ahead, admits = admits }
end

local function cancel(tat, reservedTat, increment)
  if tat == reservedTat then return tat - increment end
  return tat
end

-- Charges are always taken; refunds anywhere only for a reject-mode token bucket (no slots), else
-- only while ours is the last reservation (lib/core/gcra.ts says why).
local function settle(tat, reservedTat, now, policy, deltaUnits)
  if deltaUnits > 0 then return startOf(tat, now) + deltaUnits * policy.emissionMs end
  if deltaUnits == 0 or tat == nil then return tat end
  local refund = -deltaUnits * policy.emissionMs
  if policy.shape == 'token-bucket' and policy.mode == 'reject' then return tat - refund end
  if tat == reservedTat then return tat - refund end
  return tat
end

-- I/O: read every key before anything is written, so an error (say WRONGTYPE) changes nothing.
-- `read` gives the state as stored (exact text, '' for none), for the reply; `load` its number.
local function read(key)
  return redis.call('GET', key) or ''
end

local function load(key)
  return num(read(key))
end

-- PXAT, not PX: the key lives exactly as long as its state matters (a tat <= now is no state),
-- and an absolute expiry cannot come out early from Redis truncating its own clock to whole ms.
local function store(key, tat, now)
  if tat <= now then
    redis.call('DEL', key)
    return
  end
  local expiresAt = math.min(math.ceil(tat), MAX_EXPIRY_MS) + EPOCH_MS
  redis.call('SET', key, text(tat), 'PXAT', string.format('%d', expiresAt))
end

local function policyAt(i)
  local a = 2 + (i - 1) * 6
  return { shape = ARGV[a], mode = ARGV[a + 1], emissionMs = num(ARGV[a + 2]), tauMs = num(ARGV[a + 3]), maxWaitMs = num(ARGV[a + 4]) }, num(ARGV[a + 5])
end

local time = redis.call('TIME')
local now = ((tonumber(time[1]) - EPOCH_S) * 1000000 + tonumber(time[2])) / 1000
local op = ARGV[1]
local reply = { text(now) }

if op == 'cancel' then
  for i = 1, #KEYS do
    local tat = load(KEYS[i])
    local nextTat = cancel(tat, num(ARGV[2 * i]), num(ARGV[2 * i + 1]))
    if nextTat ~= tat then store(KEYS[i], nextTat, now) end
  end
  return reply
end

if op == 'settle' then
  local tats = {}
  for i = 1, #KEYS do tats[i] = load(KEYS[i]) end
  for i = 1, #KEYS do
    local a = 2 + (i - 1) * 5
    local policy = { shape = ARGV[a], mode = ARGV[a + 1], emissionMs = num(ARGV[a + 2]) }
    local nextTat = settle(tats[i], num(ARGV[a + 3]), now, policy, num(ARGV[a + 4]))
    if nextTat ~= tats[i] then store(KEYS[i], nextTat, now) end
  end
  return reply
end

if op == 'peek' then
  for i = 1, #KEYS do reply[i + 1] = read(KEYS[i]) end
  return reply
end

if op ~= 'decide' then
  return redis.error_reply('nest-limiter gcra.lua: unknown op ' .. tostring(op))
end

-- decideAll, without the outcomes: charged to every policy only if every policy admits.
local stored, newTats = {}, {}
local charged = true
for i = 1, #KEYS do
  stored[i] = read(KEYS[i])
  local policy, cost = policyAt(i)
  local s = step(num(stored[i]), now, policy, cost)
  newTats[i] = s.newTat
  charged = charged and s.admits
end
if charged then
  for i = 1, #KEYS do store(KEYS[i], newTats[i], now) end
  reply[2] = 1
else
  reply[2] = 0
end
for i = 1, #KEYS do reply[i + 2] = stored[i] end
return reply
