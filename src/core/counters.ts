import { type Clock, systemClock } from "./runtime.js";

/**
 * Counters the quotas and `usage` read: integers in named groups (a group is a Redis hash, a
 * set of rows in SQLite). Small on purpose, so each store implements it with the one atomic
 * operation it needs: `reserve` checks every limit and adds to every counter, or changes
 * nothing — in one step no other request can come between. That is what stops two concurrent
 * requests at the edge of a quota from both passing.
 */

export interface CounterRef {
  group: string;
  field: string;
}

export interface CounterLimit extends CounterRef {
  /** The most this counter may reach; 0 = no limit (the counter is still added to). */
  limit: number;
}

export interface ReserveResult {
  granted: boolean;
  /** Each counter's value after the call, in the order given (unchanged when refused). */
  values: number[];
}

export interface CounterStore {
  /** Adds `n` to every counter if none would pass its limit; otherwise changes nothing. */
  reserve(counters: readonly CounterLimit[], n: number, ttlMs: number): Promise<ReserveResult>;
  /** Adds `delta` (negative gives back) to every counter; a counter never goes below 0. */
  add(counters: readonly CounterRef[], delta: number, ttlMs: number): Promise<void>;
  read(counters: readonly CounterRef[]): Promise<number[]>;
  /** Every live counter of a group, by field. */
  readGroup(group: string): Promise<Map<string, number>>;
  close(): Promise<void>;
}

interface Cell {
  value: number;
  expiresAt: number;
}

/**
 * One process's counters. Atomic because every method runs synchronously to completion
 * before it returns its promise: nothing can interleave inside a `reserve`.
 */
export class MemoryCounters implements CounterStore {
  private readonly groups = new Map<string, Map<string, Cell>>();

  constructor(private readonly clock: Clock = systemClock) {}

  async reserve(counters: readonly CounterLimit[], n: number, ttlMs: number): Promise<ReserveResult> {
    const values = counters.map((counter) => this.value(counter));
    const granted = counters.every(
      (counter, i) => counter.limit <= 0 || (values[i] as number) + n <= counter.limit,
    );
    if (!granted) return { granted, values };
    for (const [i, counter] of counters.entries()) this.write(counter, (values[i] as number) + n, ttlMs);
    return { granted, values: values.map((value) => value + n) };
  }

  async add(counters: readonly CounterRef[], delta: number, ttlMs: number): Promise<void> {
    for (const counter of counters) this.write(counter, Math.max(0, this.value(counter) + delta), ttlMs);
  }

  async read(counters: readonly CounterRef[]): Promise<number[]> {
    return counters.map((counter) => this.value(counter));
  }

  async readGroup(group: string): Promise<Map<string, number>> {
    const now = this.clock.now();
    const result = new Map<string, number>();
    for (const [field, cell] of this.groups.get(group) ?? []) {
      if (cell.expiresAt > now) result.set(field, cell.value);
    }
    return result;
  }

  async close(): Promise<void> {
    this.groups.clear();
  }

  /** Drops groups whose every counter has expired (periods long past). */
  private prune(): void {
    const now = this.clock.now();
    for (const [name, group] of this.groups) {
      if ([...group.values()].every((cell) => cell.expiresAt <= now)) this.groups.delete(name);
    }
  }

  private value(counter: CounterRef): number {
    const cell = this.groups.get(counter.group)?.get(counter.field);
    return cell !== undefined && cell.expiresAt > this.clock.now() ? cell.value : 0;
  }

  private write(counter: CounterRef, value: number, ttlMs: number): void {
    let group = this.groups.get(counter.group);
    if (group === undefined) {
      if (this.groups.size >= 1000) this.prune();
      group = new Map();
      this.groups.set(counter.group, group);
    }
    group.set(counter.field, { value, expiresAt: this.clock.now() + ttlMs });
  }
}
