-- nest-limiter: fair queuing over one GCRA bucket (start-time fair queuing), one operation per call.
-- lib/core/fair-queue.ts and fair-state.ts line for line: same names, same order, same float
-- operations, same tie rules. test/redis/fair-differential.spec.ts checks it against them.
--
-- KEYS (all in the bucket's hash slot; lib/stores/redis/fair-keys.ts names them):
--   1 tat      the bucket's GCRA state, gcra.lua's own key (text '%.17g', PXAT at the tat): fair
--              and plain requests on one bucket share its rate
--   2 state    hash: v (V, the virtual time), seq, units, until, expires (see below)
--   3 order    zset of tickets by start tag; member: seq as 16 digits, then the id (equal starts
--              order by seq, as `ticketBefore`)
--   4 tickets  hash: id -> 'weight cost start seq expiresAt tenant'
--   5 tenants  hash: name -> 'finish waiting weight'
--   6 idle     zset of tenant names by finish (FairState.idle: equal finishes by name, byte order)
--   7 load     zset of the tenants with work waiting by waiting / weight: ZREVRANGE 0 0 is
--              `heaviest` (ties: the greatest name)
--   8 lines    zset, every score 0, by member: the tenant's name length as 10 digits, the name,
--              the start tag as 8 big-endian IEEE bytes (a non-negative double's bytes order as
--              its value), seq as 16 digits, the id; one tenant's tickets are one lex range, in
--              (start, seq) order: its newest ticket is one ZREVRANGEBYLEX
-- ARGV: op ('e' enqueue, 'c' claim, 'l' leave), kind (as gcra.lua), emissionMs, tauMs, maxWaitMs,
--       capacity, id, tenant, weight, cost, graceMs, lookaheadMs, floor ('' for none)
-- Reply: { now, then: enqueue 'a' estimateMs freePlaces pushedOut... | 'r' retryAfterMs freePlaces;
--          claim 'g' departureAt delayMs tat | 'w' estimateMs | 'x' (gone); leave 1 | 0 }
-- Numbers travel as text ('%.17g' here, String(x) in JS: both exact; Infinity as 'inf').
--
-- Around the core's operation, what a store does with a state it may drop (FairState says nothing
-- of storage): after it, a bucket that is `fairIdle` has its fair keys deleted; else they expire at
-- `expires` (plus a second's slack, see the end), ceil of the latest of every expiresAt set since
-- they were created (`until`) and the tat, no earlier. Before it, a state past `expires` is read as gone even if Redis has not yet got
-- round to expiring it: the result does not depend on when Redis does. The tat itself follows
-- gcra.lua's rules. A key of the wrong type is found before anything is written: nothing changes.

local EPOCH_S = 1767225600
local EPOCH_MS = EPOCH_S * 1000
local EPSILON_MS = 1e-6
local MAX_EXPIRY_MS = 2 ^ 53
local FAIR_KEYS = 7
local EXPIRY_SLACK_MS = 1000

local tonumber, format, call, max, pack = tonumber, string.format, redis.call, math.max, struct.pack
local K_TAT, K_STATE, K_ORDER, K_TICKETS, K_TENANTS, K_IDLE, K_LOAD, K_LINES = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local EXPECTED = { 'string', 'hash', 'zset', 'hash', 'hash', 'zset', 'zset', 'zset' }
for k = 1, 1 + FAIR_KEYS do
  local found = call('TYPE', KEYS[k]).ok
  if found ~= 'none' and found ~= EXPECTED[k] then
    return redis.error_reply('WRONGTYPE ' .. KEYS[k] .. ' holds a ' .. found .. ', fair.lua expects a ' .. EXPECTED[k])
  end
end

local op, kind = ARGV[1], ARGV[2]
local emissionMs, tauMs, maxWaitMs, capacity = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local id = ARGV[7]

local time = call('TIME')
local now = ((tonumber(time[1]) - EPOCH_S) * 1000000 + tonumber(time[2])) / 1000

local storedTat = tonumber(call('GET', K_TAT))
-- The tat the operation decides on (a claim floors it); only a commit writes it.
local tat = storedTat
local stored = call('HMGET', K_STATE, 'v', 'seq', 'units', 'until', 'expires')
local V, seq, units, untilAt = tonumber(stored[1]) or 0, tonumber(stored[2]) or 0, tonumber(stored[3]) or 0, tonumber(stored[4]) or -math.huge

local function dropFairKeys()
  call('DEL', K_STATE, K_ORDER, K_TICKETS, K_TENANTS, K_IDLE, K_LOAD, K_LINES)
  V, seq, units, untilAt = 0, 0, 0, -math.huge
end

if stored[1] and tonumber(stored[5]) < now then dropFairKeys() end

-- gcra.ts ---------------------------------------------------------------------------------------

local function aheadMs(increment)
  if kind == 'tr' or kind == 'lr' then return tauMs end
  if kind == 'tw' then return tauMs + maxWaitMs end
  return math.min(tauMs, maxWaitMs + increment)
end

-- step: base, newTat, aheadMs, admits
local function step(cost)
  local base = now
  if tat ~= nil and tat - now > EPSILON_MS then base = tat end
  local increment = cost * emissionMs
  local newTat = base + increment
  local ahead = aheadMs(increment)
  return base, newTat, ahead, newTat - now <= ahead + EPSILON_MS
end

local function admissible(cost)
  local increment = cost * emissionMs
  return increment <= aheadMs(increment) + EPSILON_MS
end

-- fair-state.ts ---------------------------------------------------------------------------------

local function orderMember(t)
  return format('%016d', t.seq) .. t.id
end

local function linePrefix(name)
  return format('%010d', #name) .. name
end

local function lineMember(t)
  return linePrefix(t.tenant) .. pack('>d', t.start) .. format('%016d', t.seq) .. t.id
end

local function readTicket(ticketId)
  local text = call('HGET', K_TICKETS, ticketId)
  if not text then return nil end
  local w, c, s, q, e, name = string.match(text, '^(%S+) (%S+) (%S+) (%S+) (%S+) (.*)$')
  return { id = ticketId, tenant = name, weight = tonumber(w), cost = tonumber(c), start = tonumber(s), seq = tonumber(q), expiresAt = tonumber(e) }
end

local function writeTicket(t)
  call('HSET', K_TICKETS, t.id, format('%.17g %.17g %.17g %d %.17g ', t.weight, t.cost, t.start, t.seq, t.expiresAt) .. t.tenant)
end

local function readTenant(name)
  local text = call('HGET', K_TENANTS, name)
  if not text then return nil end
  local f, w, wt = string.match(text, '^(%S+) (%S+) (%S+)$')
  return { finish = tonumber(f), waiting = tonumber(w), weight = tonumber(wt) }
end

-- Writes the tenant's record and its load (only a tenant with work waiting has one).
local function writeTenant(name, tenant)
  call('HSET', K_TENANTS, name, format('%.17g %.17g %.17g', tenant.finish, tenant.waiting, tenant.weight))
  if tenant.waiting > 0 then call('ZADD', K_LOAD, format('%.17g', tenant.waiting / tenant.weight), name) end
end

local function rankOf(t)
  return call('ZRANK', K_ORDER, orderMember(t))
end

-- addTicket, but for the ticket's own record: its expiresAt is known only once it is in line.
local function addTicket(t, tenant)
  call('ZADD', K_ORDER, format('%.17g', t.start), orderMember(t))
  call('ZADD', K_LINES, 0, lineMember(t))
  units = units + t.cost
  tenant.waiting = tenant.waiting + t.cost
  writeTenant(t.tenant, tenant)
end

local function becomeIdle(name, tenant)
  call('ZREM', K_LOAD, name)
  if tenant.finish <= V then
    call('HDEL', K_TENANTS, name)
  else
    writeTenant(name, tenant)
    call('ZADD', K_IDLE, format('%.17g', tenant.finish), name)
  end
end

local function removeTicket(t, committed)
  call('ZREM', K_ORDER, orderMember(t))
  call('HDEL', K_TICKETS, t.id)
  call('ZREM', K_LINES, lineMember(t))
  units = units - t.cost
  local tenant = readTenant(t.tenant)
  tenant.waiting = tenant.waiting - t.cost
  if not committed and tenant.finish == t.start + t.cost / t.weight then tenant.finish = t.start end
  if tenant.waiting == 0 then becomeIdle(t.tenant, tenant) else writeTenant(t.tenant, tenant) end
end

local function leaveIdle(name, tenant)
  if tenant.waiting ~= 0 then return end
  call('ZREM', K_IDLE, name)
end

local function pruneIdle()
  local v = format('%.17g', V)
  local names = call('ZRANGEBYSCORE', K_IDLE, '-inf', v)
  if #names == 0 then return end
  for i = 1, #names do call('HDEL', K_TENANTS, names[i]) end
  call('ZREMRANGEBYSCORE', K_IDLE, '-inf', v)
end

local function forgetTenants()
  call('DEL', K_TENANTS, K_IDLE)
end

-- fair-queue.ts ---------------------------------------------------------------------------------

local function positive(x)
  return x ~= nil and x > 0 and x < math.huge
end

local function departureOf(newTat, increment)
  if kind == 'lw' or kind == 'lr' then return newTat - increment end
  return max(now, newTat - tauMs)
end

local function estimateOf(t, behindFloorMs)
  local ahead = rankOf(t)
  local _, newTat, aheadOf, admits = step(ahead + t.cost)
  local untilDeparture = departureOf(newTat, t.cost * emissionMs) - now
  if ahead > 0 then return max(untilDeparture, behindFloorMs) end
  if admits then return untilDeparture end
  return max(untilDeparture, newTat - aheadOf - now)
end

-- Sets a ticket's expiry and writes its record; `until` keeps the latest of them.
local function expireAt(t, expiresAt)
  t.expiresAt = expiresAt
  if expiresAt > untilAt then untilAt = expiresAt end
  writeTicket(t)
end

local function headTicket()
  local head = call('ZRANGE', K_ORDER, 0, 0)[1]
  if not head then return nil end
  return readTicket(string.sub(head, 17))
end

local function dropExpiredHeads()
  while true do
    local head = headTicket()
    if head == nil or not (head.expiresAt < now) then return end
    removeTicket(head, false)
  end
end

-- pushOutPlan, with `heaviest` read from the load zset: a victim's load as the plan goes is
-- written there for the next pick, and the loads found are put back if the plan fails.
local function pushOutPlan(name, weight, cost)
  local own = readTenant(name)
  local newcomerLoad = ((own and own.waiting or 0) + cost) / weight
  local lost, taken, found, plan = {}, {}, {}, {}
  local u = units
  local failed = false
  while u + cost > capacity do
    local top = call('ZREVRANGE', K_LOAD, 0, 0, 'WITHSCORES')
    local victim = top[1]
    -- (the zset holds only loads > 0: `heaviest` skips the others)
    if victim == nil or victim == name then
      failed = true
      break
    end
    local tenant = readTenant(victim)
    local prefix = linePrefix(victim)
    local member = call('ZREVRANGEBYLEX', K_LINES, '(' .. prefix .. string.rep('\255', 9), '[' .. prefix, 'LIMIT', taken[victim] or 0, 1)[1]
    local t = readTicket(string.sub(member, #prefix + 8 + 16 + 1))
    local left = tenant.waiting - (lost[victim] or 0) - t.cost
    if not (left / tenant.weight > newcomerLoad) then
      failed = true
      break
    end
    plan[#plan + 1] = t
    if found[victim] == nil then found[victim] = top[2] end
    lost[victim] = (lost[victim] or 0) + t.cost
    taken[victim] = (taken[victim] or 0) + 1
    local load = (tenant.waiting - lost[victim]) / tenant.weight
    if load > 0 then call('ZADD', K_LOAD, format('%.17g', load), victim) else call('ZREM', K_LOAD, victim) end
    u = u - t.cost
  end
  if failed then
    for victim, load in pairs(found) do call('ZADD', K_LOAD, load, victim) end
    return nil
  end
  return plan
end

local function retryAfterOf(cost)
  local lacking = units + cost - capacity
  local base = step(0)
  return max(emissionMs, base + (lacking - 1) * emissionMs - now)
end

local function fairIdle()
  return call('ZCARD', K_ORDER) == 0 and (storedTat == nil or storedTat - now <= EPSILON_MS)
end

-- fair-queue.ts freePlaces: the places of the room no ticket holds
local function freePlaces()
  return format('%.17g', max(0, capacity - units))
end

local function enqueue()
  local name, weight, cost, graceMs = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
  if not positive(cost) or not positive(weight) or cost > capacity or not admissible(cost) then return { 'r', 'inf', freePlaces() } end
  dropExpiredHeads()
  local held = readTicket(id)
  if held ~= nil then
    local estimateMs = estimateOf(held, 0)
    expireAt(held, now + estimateMs + graceMs)
    return { 'a', format('%.17g', estimateMs), freePlaces() }
  end
  if fairIdle() then forgetTenants() end
  local reply = { 'a', '', '' }
  if units + cost > capacity then
    local plan = pushOutPlan(name, weight, cost)
    if plan == nil then return { 'r', format('%.17g', retryAfterOf(cost)), freePlaces() } end
    for i = 1, #plan do
      removeTicket(plan[i], false)
      reply[i + 3] = plan[i].id
    end
  end
  local tenant = readTenant(name)
  if tenant == nil then tenant = { finish = V, waiting = 0, weight = weight } end
  leaveIdle(name, tenant)
  local start = max(V, tenant.finish)
  tenant.finish = start + cost / weight
  tenant.weight = weight
  seq = seq + 1
  local t = { id = id, tenant = name, weight = weight, cost = cost, start = start, seq = seq, expiresAt = now }
  addTicket(t, tenant)
  local estimateMs = estimateOf(t, 0)
  expireAt(t, now + estimateMs + graceMs)
  reply[2] = format('%.17g', estimateMs)
  reply[3] = freePlaces()
  return reply
end

local function claim()
  local lookaheadMs, graceMs, floor = tonumber(ARGV[12]), tonumber(ARGV[11]), tonumber(ARGV[13])
  -- floored: a process that holds slots re-seeds a state Redis lost
  if floor ~= nil and (tat == nil or tat < floor) then tat = floor end
  dropExpiredHeads()
  local t = readTicket(id)
  if t == nil then return { 'x' } end
  local head = call('ZRANGE', K_ORDER, 0, 0)[1]
  if head == orderMember(t) then
    local _, newTat, _, admits = step(t.cost)
    local departureAt = departureOf(newTat, t.cost * emissionMs)
    if admits and departureAt - now <= lookaheadMs + EPSILON_MS then
      tat = newTat
      storedTat = newTat
      V = t.start
      removeTicket(t, true)
      pruneIdle()
      call('SET', K_TAT, format('%.17g', newTat), 'PXAT', format('%d', math.min(math.ceil(newTat), MAX_EXPIRY_MS) + EPOCH_MS))
      return { 'g', format('%.17g', departureAt), format('%.17g', departureAt - now), format('%.17g', newTat) }
    end
  end
  local estimateMs = estimateOf(t, emissionMs)
  expireAt(t, now + estimateMs + graceMs)
  return { 'w', format('%.17g', estimateMs) }
end

local function leave()
  local t = readTicket(id)
  if t == nil then return { 0 } end
  removeTicket(t, false)
  return { 1 }
end

local result
if op == 'e' then
  result = enqueue()
elseif op == 'c' then
  result = claim()
else
  result = leave()
end

if fairIdle() then
  dropFairKeys()
else
  local expires = math.min(math.ceil(max(untilAt, storedTat or -math.huge)), MAX_EXPIRY_MS)
  call('HSET', K_STATE, 'v', format('%.17g', V), 'seq', format('%d', seq), 'units', format('%.17g', units), 'until', format('%.17g', untilAt), 'expires', format('%d', expires))
  -- PEXPIREAT deletes at once a key whose time has come on Redis's live clock, which a script
  -- stalled past `expires` would reach for the last keys but not the first: a second's slack
  -- keeps them together, and the rule above reads them as gone from `expires` on.
  local at = format('%d', expires + EXPIRY_SLACK_MS + EPOCH_MS)
  for k = 2, 1 + FAIR_KEYS do call('PEXPIREAT', KEYS[k], at) end
end

local reply = { format('%.17g', now) }
for i = 1, #result do reply[i + 1] = result[i] end
return reply
