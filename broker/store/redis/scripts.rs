//! The Lua scripts of the Redis engine: each runs atomically on the server.

/// The optimistic transaction of [`KvBackend::commit`], as one atomic script.
///
/// `KEYS`: the keys of the checks, then the keys of the writes, in order. `ARGV[1]`: the
/// number of checks; then two arguments per check (`A` absent | `E` equals, expected bytes);
/// then three per write (op, operand, TTL in ms or empty for none), with ops `P` put (operand
/// the value), `D` delete, `S` set add and `R` set remove (operand the member).
///
/// Returns 1 when every check held and every write was applied, 0 when a check failed and
/// nothing was written. Type errors are detected before the first write, so a script that
/// fails does not leave half its writes behind.
///
/// Set expiry follows the contract of [`Write::SetAdd`]: a new set gets the TTL, an expiring
/// set is extended only if the TTL reaches further (`PEXPIRE GT`, written as a comparison so
/// Redis 6.2 works too), a persistent set stays persistent, and no TTL makes it persistent.
pub const COMMIT_LUA: &str = r#"
local nchecks = tonumber(ARGV[1])
local a = 2
for i = 1, nchecks do
  local kind, want = ARGV[a], ARGV[a + 1]
  a = a + 2
  local current = redis.call('GET', KEYS[i])
  if kind == 'A' then
    if current then return 0 end
  elseif current ~= want then
    return 0
  end
end
local first = a
for j = nchecks + 1, #KEYS do
  local op = ARGV[a]
  if op == 'S' or op == 'R' then
    local t = redis.call('TYPE', KEYS[j])['ok']
    if t ~= 'none' and t ~= 'set' then
      return redis.error_reply('WRONGTYPE a set write targets a key holding a ' .. t)
    end
  end
  a = a + 3
end
a = first
for j = nchecks + 1, #KEYS do
  local k, op, x, ttl = KEYS[j], ARGV[a], ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  if op == 'P' then
    if ttl == '' then
      redis.call('SET', k, x)
    else
      redis.call('SET', k, x, 'PX', ttl)
    end
  elseif op == 'D' then
    redis.call('DEL', k)
  elseif op == 'S' then
    local pttl = redis.call('PTTL', k)
    redis.call('SADD', k, x)
    if ttl == '' then
      redis.call('PERSIST', k)
    elseif pttl == -2 or (pttl >= 0 and pttl < tonumber(ttl)) then
      redis.call('PEXPIRE', k, ttl)
    end
  elseif op == 'R' then
    redis.call('SREM', k, x)
  end
end
return 1
"#;

/// `INCR` and, on a counter without expiry (a new one), `PEXPIRE`: the fixed window of
/// [`KvBackend::incr`] (`PEXPIRE NX`, written as a check so Redis 6.2 works too).
pub const INCR_LUA: &str = r#"
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
"#;

/// [`KvBackend::decr`]: `DECR` only on an existing counter above zero (`DECR` keeps the
/// key's TTL), so a late give-back never creates a counter without expiry.
pub const DECR_LUA: &str = r#"
local n = tonumber(redis.call('GET', KEYS[1]))
if n == nil then
  return 0
end
if n <= 0 then
  return 0
end
return redis.call('DECR', KEYS[1])
"#;
