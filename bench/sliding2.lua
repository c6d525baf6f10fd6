-- A sliding-log limiter on redis-server, as applications write one without
-- floodgate (the sorted-set pattern): at most 10 requests in any 1 s and
-- 100 in any 1 min, both checked and charged in one atomic script; a
-- rejection charges nothing. One sorted set per key, a member per request
-- (score: its time in µs, from Redis's TIME so hosts agree). KEYS[1] is the
-- key; returns {allowed, remaining of the tightest window}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limits = { {10, 1000000}, {100, 60000000} }
local key = KEYS[1]
-- Scores as integer text: a Lua number prints with 14 digits (%.14g), too
-- few for a time in µs.
local function num(x) return string.format('%d', x) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now - 60000000))
local allowed, remaining = 1, nil
for _, l in ipairs(limits) do
  local used = redis.call('ZCOUNT', key, '(' .. num(now - l[2]), '+inf')
  if used + 1 > l[1] then allowed = 0 end
  local left = l[1] - used - 1
  if remaining == nil or left < remaining then remaining = left end
end
if allowed == 1 then
  -- A unique member per request, even two in one microsecond.
  redis.call('ZADD', key, num(now), num(now) .. ':' .. redis.call('ZCARD', key))
  redis.call('PEXPIRE', key, 60000)
end
return {allowed, math.max(remaining, 0)}
