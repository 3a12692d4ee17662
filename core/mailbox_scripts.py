"""Lua scripts behind the mailboxes: each runs atomically inside Redis, which is
what makes "no lost wake-up" and "one consumer per customer" hold across
processes and machines.

Keys (all under `sd:`):
  seen:<page>:<key>  dedupe marker, expires          mb:<cust>   ZSET of events by timestamp
  ready              LIST of customers to process    queued      SET mirror of `ready`
  inflight           ZSET customer -> lease deadline delayed     ZSET customer -> retry time
  consumers          ZSET drain job -> deadline      att:<cust>  HASH event key -> attempts
A customer is in at most one of ready / inflight / delayed.
"""

# Shared by several scripts: move a customer to the ready list unless it is
# already scheduled somewhere.
_SCHEDULE = """
local function schedule(c)
  if redis.call('ZSCORE', 'sd:inflight', c) or redis.call('ZSCORE', 'sd:delayed', c) then
    return
  end
  if redis.call('SADD', 'sd:queued', c) == 1 then redis.call('RPUSH', 'sd:ready', c) end
end
local function reserve(now, ttl, max)
  redis.call('ZREMRANGEBYSCORE', 'sd:consumers', '-inf', now)
  if redis.call('ZCARD', 'sd:consumers') >= max then return false end
  local id = redis.call('INCR', 'sd:consumer:seq')
  redis.call('ZADD', 'sd:consumers', now + ttl, id)
  return id
end
"""

# ARGV: now_ms, seen_ttl_s, max_consumers, consumer_ttl_ms, then 5 per event:
# page, psid, key, timestamp, body. Returns {added, reservation or false,
# a string with one "1" (stored) or "0" (already seen) per event}.
INGEST = _SCHEDULE + """
local now, seen_ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local max, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local added, flags = 0, {}
for i = 5, #ARGV, 5 do
  local page, psid = ARGV[i], ARGV[i + 1]
  if redis.call('SET', 'sd:seen:' .. page .. ':' .. ARGV[i + 2], 1, 'NX', 'EX', seen_ttl) then
    local c = page .. ':' .. psid
    local seq = string.format('%015d', redis.call('INCR', 'sd:seq'))
    redis.call('ZADD', 'sd:mb:' .. c, ARGV[i + 3], seq .. '|' .. ARGV[i + 4])
    schedule(c)
    added = added + 1
    flags[#flags + 1] = '1'
  else
    flags[#flags + 1] = '0'
  end
end
local reservation = false
if added > 0 then reservation = reserve(now, ttl, max) end
return {added, reservation, table.concat(flags)}
"""

# ARGV: now_ms, consumer_id, consumer_ttl_ms, lease_ms, how many of the customer's
# first events to return with it. Returns false, or {customer, its first events...}.
CLAIM = _SCHEDULE + """
local now, cid, ttl, lease = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
for _, c in ipairs(redis.call('ZRANGEBYSCORE', 'sd:delayed', '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', 'sd:delayed', c)
  schedule(c)
end
for _, c in ipairs(redis.call('ZRANGEBYSCORE', 'sd:inflight', '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', 'sd:inflight', c)  -- its consumer died: lease expired
  schedule(c)
end
redis.call('ZADD', 'sd:consumers', now + ttl, cid)
local c = redis.call('LPOP', 'sd:ready')
if not c then return false end
redis.call('SREM', 'sd:queued', c)
redis.call('ZADD', 'sd:inflight', now + lease, c)
local claimed = {c}
if limit > 0 then
  for _, m in ipairs(redis.call('ZRANGE', 'sd:mb:' .. c, 0, limit - 1)) do claimed[#claimed + 1] = m end
end
return claimed
"""

# ARGV: customer, now_ms, delay_ms. Ends a consumer's hold on a customer.
RELEASE = _SCHEDULE + """
local c, now, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREM', 'sd:inflight', c)
if redis.call('ZCARD', 'sd:mb:' .. c) == 0 then return 0 end
if delay > 0 then
  redis.call('ZADD', 'sd:delayed', now + delay, c)
  return 2
end
schedule(c)
return 1
"""

# ARGV: consumer_id, now_ms, consumer_ttl_ms, max_consumers. A drain job ends:
# returns {successor reservation or false, time (ms) of a check or false}. With
# no successor, a check is due when the first retry falls due or the first
# lease runs out (its consumer may have died); `sd:check` keeps one pending.
RETIRE = _SCHEDULE + """
local cid, now, ttl, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREM', 'sd:consumers', cid)
local pending = redis.call('LLEN', 'sd:ready') > 0
  or #redis.call('ZRANGEBYSCORE', 'sd:inflight', '-inf', now, 'LIMIT', 0, 1) > 0
  or #redis.call('ZRANGEBYSCORE', 'sd:delayed', '-inf', now, 'LIMIT', 0, 1) > 0
if pending then
  local successor = reserve(now, ttl, max)
  if successor then return {successor, false} end
end
local at = false
for _, key in ipairs({'sd:delayed', 'sd:inflight'}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #first > 0 and (not at or tonumber(first[2]) < at) then at = tonumber(first[2]) end
end
if not at then return {false, false} end
if at < now then at = now end
local scheduled = tonumber(redis.call('GET', 'sd:check') or '0')
if scheduled > now and scheduled <= at then return {false, false} end
redis.call('SET', 'sd:check', at, 'PX', at - now + 60000)
return {false, at}
"""

# ARGV: lease deadline ms, consumer id, consumer deadline ms, customers...
# Refreshes what a live consumer holds.
HEARTBEAT = """
redis.call('ZADD', 'sd:consumers', 'XX', ARGV[3], ARGV[2])
for i = 4, #ARGV do
  redis.call('ZADD', 'sd:inflight', 'XX', ARGV[1], ARGV[i])
end
return 1
"""

# ARGV: now_ms, consumer_ttl_ms, max_consumers. A reservation when work waits
# and no consumer is alive, or when a dead consumer's lease has run out (its
# reservation may still look alive: recover it now rather than after it).
RECOVER = _SCHEDULE + """
local now, ttl, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', 'sd:consumers', '-inf', now)
local orphaned = #redis.call('ZRANGEBYSCORE', 'sd:inflight', '-inf', now, 'LIMIT', 0, 1) > 0
  or #redis.call('ZRANGEBYSCORE', 'sd:delayed', '-inf', now, 'LIMIT', 0, 1) > 0
if orphaned then return reserve(now, ttl, max + 1) end
if redis.call('ZCARD', 'sd:consumers') > 0 then return false end
if redis.call('LLEN', 'sd:ready') == 0 then return false end
return reserve(now, ttl, max)
"""

# KEYS[1]: a customer's journal (HASH call key -> outcome). ARGV: the journal's TTL in
# ms, then call key and outcome pairs. Notes what calls came to (bot.ledger), atomically
# with the TTL that keeps an abandoned journal from living forever.
JOURNAL = """
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""

# KEYS: a customer's mailbox, its attempts hash, its journal. ARGV: the customer, how
# many of the next events to return, whether to release the customer (1) when none come
# back, then the members of the events done. The events leave the mailbox with their
# attempt counts and the journal (their calls' outcomes are in the database by now); the
# customer's next waiting events come back, oldest first. A released customer is
# scheduled again if events are left (as RELEASE does); one that arrives later is
# scheduled by INGEST, as for any customer no consumer holds.
DONE = _SCHEDULE + """
local c, limit, release = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
for i = 4, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], string.sub(ARGV[i], 1, 15))
end
if #ARGV > 3 then redis.call('DEL', KEYS[3]) end
local next = {}
if limit > 0 then next = redis.call('ZRANGE', KEYS[1], 0, limit - 1) end
if release and #next == 0 then
  redis.call('ZREM', 'sd:inflight', c)
  if redis.call('ZCARD', KEYS[1]) > 0 then schedule(c) end
end
return next
"""

# KEYS[1]: a customer's mailbox. ARGV: how many. Its oldest waiting events.
PEEK = """
return redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
"""
