import type { GcraPolicy } from '../../core/policy';
import type { StoreEntry, StoreVerdict } from '../limiter-store';
import { kindOf, toArg, type GcraOp } from './gcra-script';
import type { RedisKeyNames } from './redis-key-names';

/** One request waiting in a batch: what to do, and the promise its caller awaits. */
export interface BatchRecord {
  readonly op: GcraOp;
  readonly entries: readonly StoreEntry[];
  /** cancel and settle: the tat each entry's decision returned. */
  readonly reservedTats: readonly number[] | undefined;
  /** settle: actual minus charged units, per entry. */
  readonly deltas: readonly number[] | undefined;
  /** decide: the refusal cache's epoch when it was queued (a refusal is remembered only if nothing was forgotten since). */
  readonly epoch: number;
  readonly resolve: (value: StoreVerdict | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The arguments of one gcra.lua call: the requests in queue order, every key they touch once
 * (KEYS), and one argument group per request (ARGV; gcra.lua describes the format).
 */
export class GcraBatch {
  readonly records: BatchRecord[] = [];
  readonly keys: string[] = [];
  readonly args: string[] = [];
  /** The KEYS index (0-based) of every entry of every record, in order: what the replay walks. */
  readonly keyIndexes: number[] = [];
  private readonly indexOf = new Map<string, number>();

  constructor(
    private readonly names: RedisKeyNames,
    private readonly policies: PolicyArgs,
  ) {}

  /** Appends one request. */
  add(record: BatchRecord): void {
    const { op, entries, reservedTats, deltas } = record;
    const args = this.args;
    this.records.push(record);
    args.push(op, String(entries.length));
    for (let j = 0; j < entries.length; j++) {
      const { policy, key, cost } = entries[j];
      const index = this.keyIndex(this.names.of(policy.id, key));
      this.keyIndexes.push(index);
      args.push(String(index + 1));
      if (op === 'd') {
        const p = this.policies.of(policy);
        args.push(p[0], p[1], p[2], p[3], p[4], toArg(cost), entries[j].floor === undefined ? '' : toArg(entries[j].floor!));
      } else if (op === 'c') {
        args.push(toArg(reservedTats![j]), toArg(cost * policy.emissionMs));
      } else if (op === 's') {
        const p = this.policies.of(policy);
        args.push(p[0], p[1], toArg(reservedTats![j]), toArg(deltas![j]));
      }
    }
  }

  private keyIndex(name: string): number {
    let index = this.indexOf.get(name);
    if (index === undefined) {
      index = this.keys.length;
      this.keys.push(name);
      this.indexOf.set(name, index);
    }
    return index;
  }
}

/** A policy's arguments as gcra.lua reads them (kind, emissionMs, tauMs, maxWaitMs, blockMs), encoded once per policy object. */
export class PolicyArgs {
  private readonly encoded = new WeakMap<GcraPolicy, readonly string[]>();

  /** The encoded arguments of `policy`. */
  of(policy: GcraPolicy): readonly string[] {
    let args = this.encoded.get(policy);
    if (!args) {
      args = [kindOf(policy), toArg(policy.emissionMs), toArg(policy.tauMs), toArg(policy.maxWaitMs), toArg(policy.blockMs)];
      this.encoded.set(policy, args);
    }
    return args;
  }
}
