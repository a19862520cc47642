-- nest-limiter: GCRA over a batch of requests, in one atomic call.
-- The parts that change state are lib/core/gcra.ts line for line (same names, same order, same
-- float operations): `step` (admit and charge, all or nothing), `cancel`, `settle`. What a client
-- is told (remaining, retryAfterMs, resetMs, delayMs) is derived from the state the script read
-- and the `now` it used, so RedisStore replays the batch with lib/core from this reply, as
-- MemoryStore would decide it: the script does no work whose result nobody stores.
-- test/redis/differential.spec.ts checks both halves against lib/core.
--
-- A batch is the requests one process issued in the same tick, applied in order at one `now`
-- (as if they had arrived back to back at one instant). Each key is read once, before anything is
-- written, and written at most once, at the end; each request keeps its own all-or-nothing rule.
--
-- KEYS[k]   every key the batch touches, once: the state of a bucket, its tat as text (no key: no
--           state, the same as any tat <= now).
-- ARGV      'L' for a lone decide (its short form: see below); else the number of policies P, then per policy (once per batch, however many requests use
--           it) kind, emissionMs, tauMs, maxWaitMs, blockMs; then one group per request, back to
--           back: an op letter, the number of entries n, then per entry the index k of its key in
--           KEYS and the op's arguments (p: the index of its policy, 1-based):
--   'd' decide:  k, p, cost, floor ('' for none: see `reseeded`)
--   'r' a run of n decides of one entry each, all the same (k, p, cost, floor, given once): a hot
--       key's requests in a row cost no arguments of their own, and get a flag each
--   'R' the same, but each on the key after the last's (keys k .. k + n - 1): many clients' requests
--       in a row (each key new to the batch) cost only their key
--   'p' peek:    k                     (the state is read, and time)
--   'c' cancel:  k, reservedTat, increment
--   's' settle:  k, p, reservedTat, deltaUnits
--   kind: shape then mode, one letter each: 'tr' | 'tw' (token bucket), 'lr' | 'lw' (leaky bucket).
-- Numbers travel as text both ways, exactly: JS String(x) one way; the other, a number given to
-- redis.call, which Redis prints exactly (with '%.17g', or in newer versions the shortest exact text),
-- whereas Lua's tostring keeps 14 digits and a Lua number returned to Redis becomes an integer.
-- Infinity travels as 'inf' (what both print for math.huge, and what tonumber reads).
-- Reply: one text, its lines (joined by '\n': one bulk string costs both ends far less to write and
--        read than an array of hundreds) are TIME's seconds and microseconds as Redis gave them
--        (the client works `now` out of them as the script does: cheaper than printing it), then
--        per key the text it held when read ('' for none or for text that is no number, the error
--        for a key of the wrong type, newlines made spaces), then per request a flag: '1'
--        charged (decide) or done, '0' refused (decide), '-1' failed: it touches a key of the
--        wrong type, and changed nothing.
--
-- Lean on purpose (it runs for every decision, and at one call in flight every call finds Redis's
-- caches cold): no local functions (each would be a closure made per call), no table but the reply
-- and the state (none per request or policy: policies are read from ARGV where used), no double
-- printed by Lua (redis.call prints the ones it is given, exactly).

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

local tonumber = tonumber
local format = string.format
local ARGV = ARGV

local time = redis.call('TIME')
local now = ((tonumber(time[1]) - EPOCH_S) * 1000000 + tonumber(time[2])) / 1000

-- A lone decide (one request of one entry, nothing else in its call: every call at low traffic)
-- is the 'r' run below for n = 1, without the batch's tables and with its policy inline: at one
-- call in flight each table and argument is latency (Redis's CPU per call: about 6 µs less).
-- ARGV: 'L', kind, emissionMs, tauMs, maxWaitMs, blockMs, cost, floor; KEYS[1] its key. The last
-- four may be left off from the end when they are 0, 0, 1 and none (a reject-mode limit, the common
-- case, then sends its kind and two numbers: each argument costs both ends about 0.3 µs at one call in flight).
-- The reply is a batch's of one request.
if ARGV[1] == 'L' then
  local value = redis.pcall('GET', KEYS[1])
  if type(value) == 'table' then
    return time[1] .. '\n' .. time[2] .. '\n' .. value.err:gsub('\n', ' ') .. '\n-1'
  end
  local read = nil
  if value then read = tonumber(value) end
  local kind, emissionMs, tauMs, maxWaitMs, blockMs = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]) or 0, tonumber(ARGV[6]) or 0
  local cost, floor = tonumber(ARGV[7]) or 1, tonumber(ARGV[8])
  local increment = cost * emissionMs
  local ahead, unit = tauMs, tauMs
  if kind == 'tw' then
    unit = tauMs + maxWaitMs
    ahead = unit
  elseif kind == 'lw' then
    unit = math.min(tauMs, maxWaitMs + emissionMs)
    ahead = math.min(tauMs, maxWaitMs + increment)
  end
  local tat, written = read, read
  if floor ~= nil then
    if tat == nil and floor - now > EPSILON_MS then
      tat = math.max(floor, now + ahead)
      written = tat
    elseif tat == nil or tat < floor then
      tat = floor
    end
  end
  local base = now
  if tat ~= nil and tat - now > EPSILON_MS then base = tat end
  local newTat = base + increment
  local flag = '0'
  if newTat - now <= ahead + EPSILON_MS then
    flag = '1'
    written = newTat
  elseif blockMs > 0 and not (newTat - base > ahead + EPSILON_MS) and base - now <= unit + EPSILON_MS then
    local blockedTat = now + blockMs + unit - emissionMs
    if blockedTat > base then written = blockedTat end
  end
  -- only ever ahead of what was read (a re-seed, a charge, a block)
  if written ~= nil and written ~= read then
    redis.call('SET', KEYS[1], written, 'PXAT', format('%d', math.min(math.ceil(written), MAX_EXPIRY_MS) + EPOCH_MS))
  end
  return time[1] .. '\n' .. time[2] .. '\n' .. (read and value or '') .. '\n' .. flag
end

local reply = { time[1], time[2] }

-- Read every key before anything is written: `tats` is the state as the batch goes (nil: none),
-- `read` as found (a key is written only if it changed); `wrong` (made only when one is found)
-- marks keys of the wrong type: their requests fail, the rest go on.
local nkeys = #KEYS
local tats, read, wrong = {}, {}, nil
for k = 1, nkeys do
  local value = redis.pcall('GET', KEYS[k])
  if type(value) == 'table' then
    wrong = wrong or {}
    wrong[k] = true
    reply[k + 2] = (value.err:gsub('\n', ' '))
  elseif value then
    local tat = tonumber(value)
    tats[k], read[k] = tat, tat
    reply[k + 2] = tat and value or ''
  else
    reply[k + 2] = ''
  end
end

-- Policy p's kind, emissionMs, tauMs, maxWaitMs and blockMs are ARGV[b] .. ARGV[b + 4], b = p * 5 - 3.
-- unit (lib/core/gcra `refusal`'s aheadMs for one unit): how far ahead the state a unit is
-- admitted from again lies, for blocks.
local np = tonumber(ARGV[1])
local a, last, flagAt = 2 + np * 5, #ARGV, nkeys + 2
while a <= last do
  local op, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  if op == 'r' or op == 'R' then
    -- n times the one-entry 'd' below, with what does not change worked out once.
    local k, b, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]) * 5 - 3, tonumber(ARGV[a + 2])
    local step = op == 'R' and 1 or 0
    local floor = tonumber(ARGV[a + 3])
    a = a + 4
    local kind, emissionMs, tauMs, maxWaitMs, blockMs = ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
    local increment = cost * emissionMs
    local ahead, unit = tauMs, tauMs
    if kind == 'tw' then
      unit = tauMs + maxWaitMs
      ahead = unit
    elseif kind == 'lw' then
      unit = math.min(tauMs, maxWaitMs + emissionMs)
      ahead = math.min(tauMs, maxWaitMs + increment)
    end
    for _ = 1, n do
      local flag = '-1'
      if not (wrong and wrong[k]) then
        local tat = tats[k]
        if floor ~= nil then
          if tat == nil and floor - now > EPSILON_MS then
            tat = math.max(floor, now + ahead)
            tats[k] = tat
          elseif tat == nil or tat < floor then
            tat = floor
          end
        end
        local base = now
        if tat ~= nil and tat - now > EPSILON_MS then base = tat end
        local newTat = base + increment
        if newTat - now <= ahead + EPSILON_MS then
          flag = '1'
          tats[k] = newTat
        else
          flag = '0'
          if blockMs > 0 and not (newTat - base > ahead + EPSILON_MS) and base - now <= unit + EPSILON_MS then
            local blockedTat = now + blockMs + unit - emissionMs
            if blockedTat > base then tats[k] = blockedTat end
          end
        end
      end
      flagAt = flagAt + 1
      reply[flagAt] = flag
      k = k + step
    end
  else
    local width = (op == 'd' and 4) or (op == 'p' and 1) or (op == 'c' and 3) or 4
    local flag = '1'
    if wrong then
      for b = a, a + (n - 1) * width, width do
        if wrong[tonumber(ARGV[b])] then flag = '-1' end
      end
    end
    if flag == '-1' or op == 'p' then
      -- nothing to change
    elseif op == 'd' then
      -- decideAll: charged to every policy only if every policy admits.
      local newTats, reseeds = {}, nil
      for j = 1, n do
        local e = a + (j - 1) * 4
        local b = tonumber(ARGV[e + 1]) * 5 - 3
        local tat, kind = tats[tonumber(ARGV[e])], ARGV[b]
        local emissionMs, tauMs, maxWaitMs, cost = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[e + 2])
        local increment = cost * emissionMs
        -- aheadMs: reject: tau; waiting token bucket: tau + maxWait; waiting leaky bucket: min(tau, maxWait + increment)
        local ahead = tauMs
        if kind == 'tw' then
          ahead = tauMs + maxWaitMs
        elseif kind == 'lw' then
          ahead = math.min(tauMs, maxWaitMs + increment)
        end
        -- reseeded: the latest state the calling process saw, when the stored one is behind it; a full
        -- queue when there is no key under a floor still ahead (lost), written even on a refusal
        local floor = tonumber(ARGV[e + 3])
        if floor ~= nil then
          if tat == nil and floor - now > EPSILON_MS then
            tat = math.max(floor, now + ahead)
            reseeds = reseeds or {}
            reseeds[j] = tat
          elseif tat == nil or tat < floor then
            tat = floor
          end
        end
        -- step: base = startOf(tat, now) (a tat within EPSILON of now counts as now)
        local base = now
        if tat ~= nil and tat - now > EPSILON_MS then base = tat end
        local newTat = base + increment
        if not (newTat - now <= ahead + EPSILON_MS) then flag = '0' end
        newTats[j] = newTat
      end
      if reseeds then
        for j = 1, n do
          local k = tonumber(ARGV[a + (j - 1) * 4])
          if reseeds[j] and tats[k] == nil then tats[k] = reseeds[j] end
        end
      end
      if flag == '1' then
        for j = 1, n do tats[tonumber(ARGV[a + (j - 1) * 4])] = newTats[j] end
      else
        -- refusal: a policy with blockMs that refused the key for exceeding the limit (not for a cost
        -- it can never admit) blocks it for blockMs from now, unless a block (or a debt) already
        -- runs further; the state a unit is admitted from again is `unit - T` ahead.
        for j = 1, n do
          local e = a + (j - 1) * 4
          local k, b = tonumber(ARGV[e]), tonumber(ARGV[e + 1]) * 5 - 3
          local blockMs = tonumber(ARGV[b + 4])
          if blockMs > 0 then
            local kind, emissionMs, tauMs, maxWaitMs = ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
            local cost = tonumber(ARGV[e + 2])
            local tat = tats[k]
            local floor = tonumber(ARGV[e + 3])
            if floor ~= nil and (tat == nil or tat < floor) then tat = floor end
            local base = now
            if tat ~= nil and tat - now > EPSILON_MS then base = tat end
            local increment = cost * emissionMs
            local ahead, unit = tauMs, tauMs
            if kind == 'tw' then
              unit = tauMs + maxWaitMs
              ahead = unit
            elseif kind == 'lw' then
              unit = math.min(tauMs, maxWaitMs + emissionMs)
              ahead = math.min(tauMs, maxWaitMs + increment)
            end
            local newTat = base + increment
            local admits = newTat - now <= ahead + EPSILON_MS
            -- as lib/core's outcome tells it (from the sum, not the product: they may differ by an ulp)
            local never = newTat - base > ahead + EPSILON_MS
            if not admits and not never and base - now <= unit + EPSILON_MS then
              local blockedTat = now + blockMs + unit - emissionMs
              if blockedTat > base then tats[k] = blockedTat end
            end
          end
        end
      end
    elseif op == 'c' then
      -- cancel: given back only while it is still the last reservation.
      for b = a, a + (n - 1) * 3, 3 do
        local k = tonumber(ARGV[b])
        if tats[k] == tonumber(ARGV[b + 1]) then tats[k] = tats[k] - tonumber(ARGV[b + 2]) end
      end
    else
      -- settle: charges are always taken; refunds anywhere only for a reject-mode token bucket (no
      -- slots), else only while ours is the last reservation (lib/core/gcra.ts says why).
      for e = a, a + (n - 1) * 4, 4 do
        local k, b = tonumber(ARGV[e]), tonumber(ARGV[e + 1]) * 5 - 3
        local tat, kind, emissionMs, reservedTat, deltaUnits = tats[k], ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[e + 2]), tonumber(ARGV[e + 3])
        if deltaUnits > 0 then
          local base = now
          if tat ~= nil and tat - now > EPSILON_MS then base = tat end
          tats[k] = base + deltaUnits * emissionMs
        elseif deltaUnits ~= 0 and tat ~= nil then
          local refund = -deltaUnits * emissionMs
          if kind == 'tr' or tat == reservedTat then tats[k] = tat - refund end
        end
      end
    end
    flagAt = flagAt + 1
    reply[flagAt] = flag
    a = a + n * width
  end
end

-- Write each changed key once. PXAT, not PX: the key lives exactly as long as its state matters,
-- and an absolute expiry cannot come out early from Redis truncating its own clock to whole ms.
-- A state given back (a cancel, a refund) keeps the key's expiry, the latest state it held, even
-- where it is now no state (<= now): a process that saw that state may send it as a floor until
-- then, and no key under it must mean a lost bucket, not a refunded one (lib/core `isLost`). The
-- tat is given to redis.call as a number (Redis prints it exactly, with no Lua string made); the
-- expiry as '%d' text, an integer's printing being far cheaper than the '%.17g' some Redis
-- versions print every number with.
for k = 1, nkeys do
  local tat, was = tats[k], read[k]
  if tat ~= nil and tat ~= was then
    if was ~= nil and tat < was then
      redis.call('SET', KEYS[k], tat, 'KEEPTTL')
    else
      redis.call('SET', KEYS[k], tat, 'PXAT', format('%d', math.min(math.ceil(tat), MAX_EXPIRY_MS) + EPOCH_MS))
    end
  end
end
return table.concat(reply, '\n')
