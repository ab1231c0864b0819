// The Redis state store's Lua scripts (src/state/redis-state-store.ts runs them by name).

// Every write that must not interleave with another instance's is one Lua script: Redis runs a
// script alone, so its check and its writes are one step. Records changed by a caller's function
// use compare-and-set instead (read, change in JavaScript, write only if the value is still the
// one read, else read again), which needs no connection of its own, unlike WATCH.
export const scripts = {
  compareAndSet: {
    numberOfKeys: 2,
    lua: `
      local current = redis.call('GET', KEYS[1])
      if ARGV[1] == '1' then
        if current ~= ARGV[2] then return 0 end
      elseif current then
        return 0
      end
      if ARGV[3] == '1' then
        if ARGV[5] ~= '0' then
          redis.call('SET', KEYS[1], ARGV[4], 'PXAT', ARGV[5])
        else
          redis.call('SET', KEYS[1], ARGV[4])
        end
        if ARGV[6] ~= '' then redis.call('SADD', KEYS[2], ARGV[6]) end
      else
        redis.call('DEL', KEYS[1])
        if ARGV[6] ~= '' then redis.call('SREM', KEYS[2], ARGV[6]) end
      end
      return 1`
  },
  // KEYS: the session's chats (a sorted set: member -> when it is forgotten). ARGV: expiresAt, now,
  // then the members to remember (the phone, and '+<phone>' when the number wrote). Answers 1 when
  // the first member is new. Forgotten chats are trimmed here, and the set itself expires with its
  // last chat, so an idle session leaves nothing behind.
  recordChat: {
    numberOfKeys: 1,
    lua: `
      local now = tonumber(ARGV[2])
      local first = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[3]))
      for index = 3, #ARGV do
        local previous = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[index]))
        local expiresAt = tonumber(ARGV[1])
        if previous and previous > expiresAt then expiresAt = previous end
        redis.call('ZADD', KEYS[1], expiresAt, ARGV[index])
      end
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
      local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
      if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
      if first and first > now then return 0 end
      return 1`
  },
  acquireLease: {
    numberOfKeys: 2,
    lua: `
      local holder = redis.call('HGET', KEYS[1], 'instanceId')
      if holder and holder ~= ARGV[1] then return false end
      local epoch = redis.call('INCR', KEYS[2])
      redis.call('HSET', KEYS[1], 'instanceId', ARGV[1], 'epoch', epoch)
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return epoch`
  },
  renewLease: {
    numberOfKeys: 1,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
      return 1`
  },
  releaseLease: {
    numberOfKeys: 1,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      redis.call('DEL', KEYS[1])
      return 1`
  },
  leaseHolder: {
    numberOfKeys: 1,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if not holder[1] then return false end
      return { holder[1], holder[2], redis.call('PTTL', KEYS[1]) }`
  },
  // KEYS: lease, credentials, categories, then one hash per category written.
  // ARGV: instance, epoch, has credentials, credentials, then per category: name, count, pairs.
  writeAuthState: {
    numberOfKeys: null,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      if ARGV[3] == '1' then redis.call('SET', KEYS[2], ARGV[4]) end
      local argument = 5
      for keyIndex = 4, #KEYS do
        local category = ARGV[argument]
        local count = tonumber(ARGV[argument + 1])
        argument = argument + 2
        redis.call('SADD', KEYS[3], category)
        for _ = 1, count do
          local id = ARGV[argument]
          local value = ARGV[argument + 1]
          argument = argument + 2
          -- Serialized keys are never empty, so '' marks a deletion.
          if value == '' then redis.call('HDEL', KEYS[keyIndex], id) else redis.call('HSET', KEYS[keyIndex], id, value) end
        end
      end
      return 1`
  },
  // KEYS: lease, credentials, categories. ARGV: instance, epoch, prefix of the category hashes.
  // The category hashes are named from the set inside the script: fine on one Redis (not Cluster).
  deleteAuthState: {
    numberOfKeys: 3,
    lua: `
      local holder = redis.call('HMGET', KEYS[1], 'instanceId', 'epoch')
      if holder[1] ~= ARGV[1] or holder[2] ~= ARGV[2] then return 0 end
      for _, category in ipairs(redis.call('SMEMBERS', KEYS[3])) do
        redis.call('DEL', ARGV[3] .. category)
      end
      redis.call('DEL', KEYS[2], KEYS[3])
      return 1`
  },
  // KEYS (every webhook script): due (sorted by when visible), deliveries, claims, retrying, counters.
  claimDeliveries: {
    numberOfKeys: 5,
    lua: `
      local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
      local claimed = {}
      for index, id in ipairs(ids) do
        local token = ARGV[4] .. ':' .. index
        redis.call('ZADD', KEYS[1], ARGV[5], id)
        redis.call('HSET', KEYS[3], id, token)
        table.insert(claimed, redis.call('HGET', KEYS[2], id))
        table.insert(claimed, token)
      end
      return claimed`
  },
  // Only the claim's own holder moves its end, and only while the claim is its own: a settled
  // claim (gone from claims) or one taken over (another token) is left alone.
  extendClaim: {
    numberOfKeys: 5,
    lua: `
      if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
      redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
      return 1`
  },
  settleDelivery: {
    numberOfKeys: 5,
    lua: `
      if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
      redis.call('HDEL', KEYS[3], ARGV[1])
      if ARGV[3] == 'retry' then
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
        redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
        redis.call('SADD', KEYS[4], ARGV[1])
      else
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('SREM', KEYS[4], ARGV[1])
        redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
      end
      return 1`
  }
} satisfies Record<string, { numberOfKeys: number | null, lua: string }>

export type ScriptName = keyof typeof scripts
