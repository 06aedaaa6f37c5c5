import { randomUUID } from "node:crypto";
import type { Redis, Result } from "ioredis";
import type { ThreadAddress } from "./run-record.js";
import {
  freshRun,
  type ImageRecord,
  type MovePlan,
  type NewRun,
  type RunRecord,
  type RunRecords,
} from "./run-records.js";

/**
 * Run records on Redis, shared by every process: each change is one Lua script, so Redis runs
 * the check and the write whole with nothing in between (no worker starts a run a cancel has
 * just ended; two processes' images of one run are both kept; queue numbers never repeat).
 *
 * Layout (PREFIX = `seedream-bot:`):
 * - `run-record:ID`, a hash: each top-level field of the record → its JSON (`state` → `"running"`).
 *   Scripts read and write single fields as strings and never re-encode a record, so whatever
 *   JSON a field holds (extra fields included) comes back exactly as written: Redis's cjson
 *   would turn `[]` into `{}` and round numbers to 14 digits.
 * - `run-images:ID`, a list: the delivered images' JSON, in the order posted.
 * - `run-queue`, a sorted set: unfinished runs, score = queue number.
 * - `run-seq`: the last queue number (INCR).
 * Both keys of a run expire `ttlMs` after its last change (PEXPIRE, Redis's clock). Every change is
 * safe to run twice (see TOKEN).
 *
 * The state machine stays in TS (`planMove`): a script gets the states the run may be in and
 * the fields to write, and only checks and applies them.
 */

/**
 * Hash fields starting with this are bookkeeping, not record fields: the token of the last write
 * and of the last move. ioredis sends a command again when the connection drops before its reply
 * came (and the reconnect is quick); the token lets a script that already ran see it is that
 * same call and answer as it did, instead of counting a second attempt or refusing its own move.
 */
const TOKEN = "~";

// The record as {flat hash, image list}, or false when there is none.
const RECORD = `
local function record()
  local fields = redis.call('HGETALL', KEYS[1])
  if #fields == 0 then return false end
  return {fields, redis.call('LRANGE', KEYS[2], 0, -1)}
end
`;

// KEYS: record, images, seq, queue. ARGV: ttl, runId, seq, mode, token, image count, the
// images' JSON, then field/JSON pairs. Modes: "put" writes the record as it is, outside the
// queue; "enqueue" gives it the next queue number (INCR) and queues it; "adopt" writes a record
// of the old layout with its own queue number unless the run is already here (false), and
// queues it. Returns the queue number.
const PUT = `
local seq, mode, n = ARGV[3], ARGV[4], tonumber(ARGV[6])
local here = redis.call('HMGET', KEYS[1], 'seq', '${TOKEN}write')
-- This very write already happened: ioredis resent it after the connection dropped its reply.
if here[2] == ARGV[5] then return tonumber(here[1]) end
if mode == 'adopt' then
  if here[1] then return false end
  if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(seq) then redis.call('SET', KEYS[3], seq) end
elseif mode == 'enqueue' then
  seq = redis.call('INCR', KEYS[3])
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'seq', seq, '${TOKEN}write', ARGV[5], unpack(ARGV, 7 + n))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if n > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 7, 6 + n))
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
if mode ~= 'put' then redis.call('ZADD', KEYS[4], 'NX', seq, ARGV[2]) end
return tonumber(seq)
`;

const READ = `${RECORD}
return record()
`;

// KEYS: record, images, queue. ARGV: ttl, runId, token, ",from,states," (as JSON strings),
// countAttempt, finish, n, then n values of field/JSON pairs to set (state, updatedAt and the
// token among them), then fields to remove. Returns the record after the move, or false.
const MOVE = `${RECORD}
local current = redis.call('HMGET', KEYS[1], 'state', 'finishedAt', '${TOKEN}move')
-- This very move already happened: ioredis resent it after the connection dropped its reply.
if current[3] == ARGV[3] then return record() end
if not current[1] or current[2] then return false end
if not string.find(ARGV[4], ',' .. current[1] .. ',', 1, true) then return false end
local n = tonumber(ARGV[7])
redis.call('HSET', KEYS[1], unpack(ARGV, 8, 7 + n))
if #ARGV > 7 + n then redis.call('HDEL', KEYS[1], unpack(ARGV, 8 + n)) end
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
if ARGV[6] == '1' then redis.call('ZREM', KEYS[3], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return record()
`;

// KEYS: record. ARGV: ttl, now, address JSON.
const SET_ADDRESS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'address', ARGV[3], 'updatedAt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

// KEYS: record, images. ARGV: ttl, now, messageId, image JSON. Decoding an image only to read
// its messageId is safe: nothing decoded is written back.
const ADD_IMAGE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if cjson.decode(item).messageId == ARGV[3] then redis.call('LREM', KEYS[2], 0, item) end
end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`;

/** What a script returns for a record: the hash as [field, JSON, …] and the images' JSON. */
type StoredRun = [string[], string[]] | null;
type Arg = string | number;

declare module "ioredis" {
  interface RedisCommander<Context> {
    seedreamRunPut(...args: Arg[]): Result<number | null, Context>;
    seedreamRunRead(...args: Arg[]): Result<StoredRun, Context>;
    seedreamRunMove(...args: Arg[]): Result<StoredRun, Context>;
    seedreamRunSetAddress(...args: Arg[]): Result<number, Context>;
    seedreamRunAddImage(...args: Arg[]): Result<number, Context>;
  }
}

export class RedisRunRecords implements RunRecords {
  private readonly seqKey: string;
  private readonly queueKey: string;

  /** Whether this process has taken over the old layout's queue (once, on the first `unfinished`). */
  private adopted = false;

  /**
   * `redis` is this store's own connection (the scripts are defined on it). `legacy` reads the
   * records an earlier version kept through keyv in the same Redis (one JSON value per run, the
   * queue as one array): its unfinished runs are taken into this layout, so a request queued
   * before an upgrade is not lost, and its finished runs stay readable (follow-up buttons).
   */
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly prefix: string,
    private readonly legacy?: Pick<RunRecords, "get" | "unfinished">,
  ) {
    this.seqKey = `${prefix}run-seq`;
    this.queueKey = `${prefix}run-queue`;
    redis.defineCommand("seedreamRunPut", { numberOfKeys: 4, lua: PUT });
    redis.defineCommand("seedreamRunRead", { numberOfKeys: 2, lua: READ, readOnly: true });
    redis.defineCommand("seedreamRunMove", { numberOfKeys: 3, lua: MOVE });
    redis.defineCommand("seedreamRunSetAddress", { numberOfKeys: 1, lua: SET_ADDRESS });
    redis.defineCommand("seedreamRunAddImage", { numberOfKeys: 2, lua: ADD_IMAGE });
  }

  async put(record: RunRecord): Promise<void> {
    await this.write(record, "put");
  }

  async enqueue(run: NewRun): Promise<RunRecord> {
    const record = freshRun(run, 0, Date.now());
    return { ...record, seq: (await this.write(record, "enqueue")) as number };
  }

  async move(runId: string, plan: MovePlan): Promise<RunRecord | undefined> {
    const now = Date.now();
    const token = randomUUID();
    // Written after the plan's own fields, as applyMove does: they win.
    const fields = {
      ...plan.set,
      state: plan.to,
      updatedAt: now,
      ...(plan.finish ? { finishedAt: now } : {}),
    };
    const set = [...pairs(fields), `${TOKEN}move`, token];
    const stored = await this.redis.seedreamRunMove(
      ...this.keys(runId),
      this.queueKey,
      this.ttlMs,
      runId,
      token,
      `,${plan.from.map((state) => JSON.stringify(state)).join(",")},`,
      plan.countAttempt ? "1" : "0",
      plan.finish ? "1" : "0",
      set.length,
      ...set,
      ...plan.unset,
    );
    return decode(stored);
  }

  async setAddress(runId: string, address: ThreadAddress): Promise<void> {
    await this.redis.seedreamRunSetAddress(
      this.keys(runId)[0],
      this.ttlMs,
      Date.now(),
      JSON.stringify(address),
    );
  }

  async addImage(image: ImageRecord): Promise<void> {
    await this.redis.seedreamRunAddImage(
      ...this.keys(image.runId),
      this.ttlMs,
      Date.now(),
      image.messageId,
      JSON.stringify(image),
    );
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const run = decode(await this.redis.seedreamRunRead(...this.keys(runId)));
    return run ?? this.legacy?.get(runId);
  }

  async unfinished(): Promise<RunRecord[]> {
    if (this.legacy && !this.adopted) {
      // Recovery asks first, at start-up; "adopt" leaves a run another process took over alone.
      for (const run of await this.legacy.unfinished()) await this.write(run, "adopt");
      this.adopted = true;
    }
    const ids = await this.redis.zrange(this.queueKey, 0, -1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.seedreamRunRead(...this.keys(id));
    const replies = (await pipeline.exec()) ?? [];
    const runs: RunRecord[] = [];
    const expired: string[] = [];
    replies.forEach(([error, stored], i) => {
      if (error) throw error;
      const run = decode(stored as StoredRun);
      if (run === undefined) expired.push(ids[i] as string);
      else if (run.finishedAt === undefined) runs.push(run);
    });
    // A record outlived by its queue entry expired: the entry goes too.
    if (expired.length > 0) await this.redis.zrem(this.queueKey, ...expired);
    return runs;
  }

  /** Writes `record` whole (see PUT for `mode`); its queue number, or null when adopting found it here. */
  private write(record: RunRecord, mode: "put" | "enqueue" | "adopt"): Promise<number | null> {
    const { images, seq, ...fields } = record;
    return this.redis.seedreamRunPut(
      ...this.keys(record.runId),
      this.seqKey,
      this.queueKey,
      this.ttlMs,
      record.runId,
      seq,
      mode,
      randomUUID(),
      images.length,
      ...images.map((image) => JSON.stringify(image)),
      ...pairs(fields),
    );
  }

  private keys(runId: string): [string, string] {
    return [`${this.prefix}run-record:${runId}`, `${this.prefix}run-images:${runId}`];
  }
}

/** `fields` as [name, JSON, …], leaving out what JSON leaves out (undefined). */
function pairs(fields: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(fields).flatMap(([name, value]) => {
    const json = JSON.stringify(value);
    return json === undefined ? [] : [name, json];
  });
}

function decode(stored: StoredRun): RunRecord | undefined {
  if (stored === null) return undefined;
  const [flat, images] = stored;
  const record: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i] as string;
    if (!field.startsWith(TOKEN)) record[field] = JSON.parse(flat[i + 1] as string);
  }
  record.images = images.map((image) => JSON.parse(image) as unknown);
  return record as unknown as RunRecord;
}
