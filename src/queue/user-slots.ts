import type { Redis } from "ioredis";

/**
 * MAX_CONCURRENT_RUNS_PER_USER across every process: each user's running runs are members of a
 * sorted set scored by when their lease ends. Taking a slot is one Lua script (drop expired
 * leases, then add if under the limit), so two workers can never both take a user's last slot;
 * a worker that dies stops renewing and its slot frees itself when the lease ends. BullMQ's open
 * source edition has no per-group concurrency, hence this one small script. Times come from
 * Redis's clock (TIME), so hosts with skewed clocks agree.
 */

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease)
  return 1
end
return 0
`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease, ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], lease)
  return 1
end
return 0
`;

export interface UserSlots {
  /**
   * Takes one of `user`'s `limit` slots for `runId` (a run that holds one already keeps it: a
   * run taken over from a dead process reuses its slot). False when the user is at the limit.
   */
  take(user: string, runId: string, limit: number): Promise<boolean>;
  /** Extends the lease of a slot held. */
  renew(user: string, runId: string): Promise<void>;
  release(user: string, runId: string): Promise<void>;
}

export function redisUserSlots(redis: Redis, options: { prefix: string; leaseMs: number }): UserSlots {
  const key = (user: string) => `${options.prefix}:user-slots:${user}`;
  return {
    async take(user, runId, limit) {
      return (await redis.eval(TAKE, 1, key(user), runId, limit, options.leaseMs)) === 1;
    },
    async renew(user, runId) {
      await redis.eval(RENEW, 1, key(user), runId, options.leaseMs);
    },
    async release(user, runId) {
      await redis.zrem(key(user), runId);
    },
  };
}
