-- The equivalent limiter on redis-server, as applications do it without
-- floodgate: three GCRA windows (10/1s, 100/1m, 1000/1h), all checked and
-- charged in one atomic script; a rejection charges nothing. Time from
-- Redis (TIME) so hosts agree. KEYS[1] is the key; returns
-- {allowed, remaining of the tightest window}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limits = { {10, 1000000}, {100, 60000000}, {1000, 3600000000} }
local tats, allowed, remaining = {}, 1, nil
for i, l in ipairs(limits) do
  local interval = l[2] / l[1]
  local k = KEYS[1] .. ':' .. i
  local tat = tonumber(redis.call('GET', k) or now)
  if tat < now then tat = now end
  local nt = tat + interval
  if nt - now > l[2] then allowed = 0 end
  local left = math.floor((l[2] - (nt - now)) / interval)
  if remaining == nil or left < remaining then remaining = left end
  tats[i] = {k, nt, l[2]}
end
if allowed == 1 then
  for _, v in ipairs(tats) do
    redis.call('SET', v[1], string.format('%d', v[2]), 'PX', math.ceil(v[3] / 1000))
  end
end
return {allowed, math.max(remaining, 0)}
