import type { Redis } from "ioredis";
import type { CounterLimit, CounterRef, CounterStore, ReserveResult } from "./counters.js";
import { StoreUnavailableError } from "./errors.js";
import { connectRedis } from "./redis-client.js";
import type { Clock } from "./runtime.js";

/**
 * Quota counters on Redis, shared by every process: a group is a hash (field → count, and
 * field + EXPIRES → when that count ends, by the injected clock as in memory and sqlite), and
 * each operation is one Lua script, so Redis runs it whole with nothing in between. That is
 * what keeps two processes at the edge of a quota from both passing. The hash itself expires
 * (PEXPIRE, server time) once its longest-lived counter has, so old days clean themselves up.
 */

const PREFIX = "seedream-bot:counters:";
const EXPIRES = "\u0000expires";

// KEYS: one hash per counter. ARGV: now, ttlMs, n, then field and limit per counter.
const RESERVE = `
local now, ttl, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local values, granted = {}, 1
for i, key in ipairs(KEYS) do
  local field, limit = ARGV[2 + 2 * i], tonumber(ARGV[3 + 2 * i])
  local value = 0
  if tonumber(redis.call('HGET', key, field .. '${EXPIRES}') or '0') > now then
    value = tonumber(redis.call('HGET', key, field) or '0')
  end
  values[i] = value
  if limit > 0 and value + n > limit then granted = 0 end
end
if granted == 1 then
  for i, key in ipairs(KEYS) do
    local field = ARGV[2 + 2 * i]
    values[i] = values[i] + n
    redis.call('HSET', key, field, values[i], field .. '${EXPIRES}', now + ttl)
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  end
end
table.insert(values, 1, granted)
return values
`;

// KEYS: one hash per counter. ARGV: now, ttlMs, delta, then one field per counter.
const ADD = `
local now, ttl, delta = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  local field = ARGV[3 + i]
  local value = 0
  if tonumber(redis.call('HGET', key, field .. '${EXPIRES}') or '0') > now then
    value = tonumber(redis.call('HGET', key, field) or '0')
  end
  value = math.max(0, value + delta)
  redis.call('HSET', key, field, value, field .. '${EXPIRES}', now + ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
return 1
`;

export async function openRedisCounters(url: string, clock: Clock): Promise<CounterStore> {
  return new RedisCounters(await connectRedis(url), clock);
}

class RedisCounters implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
  ) {}

  async reserve(counters: readonly CounterLimit[], n: number, ttlMs: number): Promise<ReserveResult> {
    const args = counters.flatMap((counter) => [counter.field, String(counter.limit)]);
    const reply = (await this.call(RESERVE, counters, [String(n), ...args], ttlMs)) as number[];
    const [granted, ...values] = reply;
    return { granted: granted === 1, values };
  }

  async add(counters: readonly CounterRef[], delta: number, ttlMs: number): Promise<void> {
    await this.call(ADD, counters, [String(delta), ...counters.map((counter) => counter.field)], ttlMs);
  }

  async read(counters: readonly CounterRef[]): Promise<number[]> {
    const groups = [...new Set(counters.map((counter) => counter.group))];
    const all = await Promise.all(groups.map((group) => this.readGroup(group)));
    const byGroup = new Map(groups.map((group, i) => [group, all[i] as Map<string, number>]));
    return counters.map((counter) => byGroup.get(counter.group)?.get(counter.field) ?? 0);
  }

  async readGroup(group: string): Promise<Map<string, number>> {
    const hash = await this.guard(() => this.redis.hgetall(PREFIX + group));
    const now = this.clock.now();
    const result = new Map<string, number>();
    for (const [field, value] of Object.entries(hash)) {
      if (field.endsWith(EXPIRES)) continue;
      if (Number(hash[field + EXPIRES] ?? 0) > now) result.set(field, Number(value));
    }
    return result;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private call(
    script: string,
    counters: readonly CounterRef[],
    args: string[],
    ttlMs: number,
  ): Promise<unknown> {
    const keys = counters.map((counter) => PREFIX + counter.group);
    return this.guard(() =>
      this.redis.eval(script, keys.length, ...keys, String(this.clock.now()), String(ttlMs), ...args),
    );
  }

  /** A lost Redis reaches the quota check as the store being unavailable, said to the user. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
