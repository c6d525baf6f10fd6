/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_lua: the frame of every policy type's Redis scripts; each limiter
 * file builds its three (decide, block, replay: enum policy_lua) with
 * POLICY_LUA(state, body).
 *
 * Each decision is one Lua script run atomically by Redis on one key,
 * {prefix:policy:key} (one hash slot). The value is the policy's config id
 * (16 bytes: state of another config of the policy counts as none) and then
 * the state as little-endian doubles, which Lua's struct library reads and
 * writes without text conversions (they cost more than the rest of a
 * script). Every field is an integer below 2^53, exact in a double.
 *
 * Each script applies the same state change as the type's memory callback,
 * with the time of the Redis server (TIME, in ms), and returns that time
 * and the value it found. The agent then runs the very memory callback on
 * that state and time: the reply is computed by the same code as with the
 * memory store (identical results by construction), and the new state is
 * mirrored into the memory store, so a fallback continues from the last
 * shared state this host saw.
 *
 * ARGV: 1 the parameters: config id, then doubles xp (the type's expiry
 * parameter), x and n (the type's own), n pairs read by limit(i), and last
 * the legacy id (struct policy); 2 a fixed now in ms (0: TIME); then the
 * script's own.
 *
 * A value of another config of the same type (the id's first byte, its
 * type's tag, is the same: a reload changed what the state means, issue
 * 12) keeps its block, the first field, and nothing else, unless the kind
 * remaps it (POLICY_LUA_REMAP: events' counts of the types still named).
 *
 * state: Lua defining nf (the number of fields) and expiry(f) (when the
 * state f is worth no more than zeroes, Unix ms; f[1] is the block's end).
 * body: the script's work on f (zeroes when Redis had no state of this
 * config, but for a block kept); save() writes f back with its expiry, or deletes the key.
 */
#ifndef FG_POLICY_LUA_H
#define FG_POLICY_LUA_H

#define POLICY_LUA_HEAD                                                                            \
	"local P, now = ARGV[1], tonumber(ARGV[2])\n"                                              \
	"if now == 0 then local t = redis.call('TIME')\n"                                          \
	"  now = t[1] * 1000 + math.floor(t[2] / 1000) end\n"                                      \
	"local cid, lid = string.sub(P, 1, 16), string.sub(P, -16)\n"                              \
	"local xp, x, n = struct.unpack('<ddd', P, 17)\n"                                          \
	"local function limit(i) return struct.unpack('<dd', P, 25 + 16 * i) end\n"

/* other: what a value of another config of the type gives f (zeroes): its
 * block (POLICY_LUA_KEEP_BLOCK), or more when the kind can tell (remap). */
#define POLICY_LUA_LOAD_WITH(other)                                                                \
	"local fmt = '<' .. string.rep('d', nf)\n"                                                 \
	"local v = redis.call('GET', KEYS[1])\n"                                                   \
	"local f, found = nil, false\n"                                                            \
	"local vid = v and string.sub(v, 1, 16)\n"                                                 \
	"if v and #v == 16 + 8 * nf and (vid == cid or vid == lid) then\n"                         \
	"  f = {struct.unpack(fmt, v, 17)}; found = true\n"                                        \
	"else f = {}; for i = 1, nf do f[i] = 0 end\n"                                             \
	"  if v and vid ~= cid and vid ~= lid and #v >= 24 and\n"                                  \
	"      string.byte(v, 1) == string.byte(cid, 1) then\n" other "  end end\n"                \
	"local function save() local e = expiry(f)\n"                                              \
	"  if e > now then local s = cid .. struct.pack(fmt, unpack(f, 1, nf))\n"                  \
	"    redis.call('SET', KEYS[1], s, 'PX', string.format('%d', e - now))\n"                  \
	"  else redis.call('DEL', KEYS[1]) end end\n"

#define POLICY_LUA_KEEP_BLOCK                                                                      \
	"    local b = struct.unpack('<d', v, 17)\n"                                               \
	"    if b >= 1 and b < 18446744073709551616 then f[1] = math.floor(b); found = true end\n"

#define POLICY_LUA_LOAD POLICY_LUA_LOAD_WITH(POLICY_LUA_KEEP_BLOCK)

#define POLICY_LUA(state, body) POLICY_LUA_HEAD state POLICY_LUA_LOAD body
/* A kind with a remap (policy_kind.h): other reads more of another
 * config's value than its block, as the kind's remap does in memory. */
#define POLICY_LUA_REMAP(state, other, body) POLICY_LUA_HEAD state POLICY_LUA_LOAD_WITH(other) body

/* The block script's body, the same for every type: ARGV 3 seconds (0:
 * unblock, only an existing key). */
#define POLICY_LUA_BLOCK_BODY                                                                      \
	"local secs = tonumber(ARGV[3])\n"                                                         \
	"if secs > 0 then local u = now + secs * 1000\n"                                           \
	"  if u > f[1] then f[1] = u end; save()\n"                                                \
	"elseif found then f[1] = 0; save() end\n"                                                 \
	"return {now, v or false}\n"

/* The state of the types whose expiry is a count's stamp (f[3]) plus xp. */
#define POLICY_LUA_STATE_STAMP                                                                     \
	"local nf = 3\n"                                                                           \
	"local function expiry(f) local e = f[1]\n"                                                \
	"  if f[2] > 0 and f[3] + xp > e then e = f[3] + xp end\n"                                 \
	"  return e end\n"

#endif /* FG_POLICY_LUA_H */
