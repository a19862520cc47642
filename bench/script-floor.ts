/**
 * The least a GCRA on Redis's clock can cost a decision there: Redis's `TIME`, the key's state read,
 * and written back with its expiry, in one script call, and nothing more (one key, one policy, no
 * batch, no reply to replay, no all-or-nothing, no blocks). The 1-in-flight row runs it raw beside
 * the contenders: its latency beside RateLimiterRedis's (an `INCRBY` of an integer needs neither a
 * clock nor a double, nor a new expiry per write) is what that work costs any GCRA on Redis's
 * time, and what nest-limiter takes beyond it is its own.
 * ARGV: emissionMs, tauMs. Returns 1 admitted, 0 refused.
 */
export const SCRIPT_FLOOR_LUA = `
local time = redis.call('TIME')
local now = (tonumber(time[1]) - 1767225600) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then tat = now end
local newTat = tat + tonumber(ARGV[1])
if newTat - now > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], newTat, 'PXAT', string.format('%d', math.ceil(newTat) + 1767225600000))
return 1
`;
