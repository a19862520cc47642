import type { GcraPolicy } from '../../core/policy';
import type { StoreCall, StoreEntry, StoreVerdict } from '../limiter-store';
import { kindOf, toArg, type GcraOp } from './gcra-script';
import type { RedisKeyNames } from './redis-key-names';

/** One request waiting in a batch: what to do, and where its answer goes. */
export interface BatchRecord {
  readonly op: GcraOp;
  readonly entries: readonly StoreEntry[];
  /** cancel and settle: the tat each entry's decision returned. */
  readonly reservedTats: readonly number[] | undefined;
  /** settle: actual minus charged units, per entry. */
  readonly deltas: readonly number[] | undefined;
  /** decide: the refusal cache's epoch when it was queued (a refusal is remembered only if nothing was forgotten since). */
  readonly epoch: number;
  /** Answered by the replay: a verdict for decide and peek, nothing (undefined) for cancel and settle. */
  readonly call: StoreCall<StoreVerdict | undefined>;
}

/**
 * The arguments of one gcra.lua call: the requests in queue order, every key they touch once
 * (KEYS), every policy they use once (`policyArgs`), and one argument group per request (`args`;
 * ARGV is the policy count, `policyArgs`, then `args`: gcra.lua describes the format).
 */
export class GcraBatch {
  readonly records: BatchRecord[] = [];
  readonly keys: string[] = [];
  readonly policyArgs: string[] = [];
  readonly args: string[] = [];
  /** The KEYS index (0-based) of every entry of every record, in order: what the replay walks. */
  readonly keyIndexes: number[] = [];
  /**
   * KEYS index by policy id, then key (short strings whose hashes are mostly known, where the Redis
   * name is long and new), for every key but the first: a lone request, every call at low traffic,
   * makes no map (the first key and policy are compared as they are).
   */
  private indexOf?: Map<string, Map<string, number>>;
  private firstPolicyId?: string;
  private firstKey?: string;
  /**
   * The run of one-entry decides the last request opened or joined, while nothing else followed it:
   * all of one key ('r'), or each on the key after the last's, every one new to the batch ('R').
   */
  private run?: { op: 'r' | 'R'; readonly first: number; readonly policy: GcraPolicy; readonly cost: number; readonly floor: number | undefined; count: number; readonly opAt: number };
  /** Each policy's index in `policyArgs`, as gcra.lua numbers them (1-based, as text), for every policy but the first. */
  private policyIndexOf?: Map<GcraPolicy, string>;
  private firstPolicy?: GcraPolicy;
  /** How many policies `policyArgs` holds. */
  private policyCount = 0;

  constructor(
    private readonly names: RedisKeyNames,
    private readonly policies: PolicyArgs,
  ) {}

  /** Appends one request. */
  add(record: BatchRecord): void {
    const { op, entries, reservedTats, deltas } = record;
    this.records.push(record);
    if (op === 'd' && entries.length === 1) {
      this.addToRun(entries[0]);
      return;
    }
    this.run = undefined;
    const args = this.args;
    args.push(op, String(entries.length));
    for (let j = 0; j < entries.length; j++) {
      const { policy, key, cost } = entries[j];
      const index = this.keyIndex(policy.id, key);
      this.keyIndexes.push(index);
      args.push(String(index + 1));
      if (op === 'd') {
        args.push(this.policyIndex(policy), costArg(cost), floorArg(entries[j].floor));
      } else if (op === 'c') {
        args.push(toArg(reservedTats![j]), toArg(cost * policy.emissionMs));
      } else if (op === 's') {
        args.push(this.policyIndex(policy), toArg(reservedTats![j]), toArg(deltas![j]));
      }
    }
  }

  /**
   * A one-entry decide: one more in the run before it when it is the same decide (on the same key
   * for 'r', on the next new key for 'R': a hot key's requests in a row, or many clients' first
   * requests, then cost no arguments of their own), else a new run.
   */
  private addToRun(entry: StoreEntry): void {
    const { policy, key, cost, floor } = entry;
    const known = this.keys.length;
    const index = this.keyIndex(policy.id, key);
    this.keyIndexes.push(index);
    const run = this.run;
    if (run && run.policy === policy && run.cost === cost && run.floor === floor) {
      if (run.op === 'r' && run.first === index) {
        this.args[run.opAt + 1] = String(++run.count);
        return;
      }
      if (index === known && index === run.first + run.count && (run.op === 'R' || run.count === 1)) {
        run.op = 'R';
        this.args[run.opAt] = 'R';
        this.args[run.opAt + 1] = String(++run.count);
        return;
      }
    }
    this.run = { op: 'r', first: index, policy, cost, floor, count: 1, opAt: this.args.length };
    this.args.push('r', '1', String(index + 1), this.policyIndex(policy), costArg(cost), floorArg(floor));
  }

  /**
   * The call's arguments after its command name: the script, the key count, KEYS (with the client's
   * `keyPrefix`, as ioredis adds it to the commands it knows), then ARGV. A lone one-entry decide
   * goes in gcra.lua's short form ('L'), 7 arguments fewer than a batch of one, and its last four
   * (maxWaitMs, blockMs, cost, floor) left off from the end while they are what the script takes
   * for none: 0, 0, 1, ''.
   */
  argv(script: string, keyPrefix: string): string[] {
    const { keys, policyArgs, args, records } = this;
    if (records.length === 1 && records[0].op === 'd' && records[0].entries.length === 1) {
      const { cost, floor } = records[0].entries[0];
      const optional = [policyArgs[3], policyArgs[4], costArg(cost), floorArg(floor)];
      let sent = optional.length;
      while (sent > 0 && optional[sent - 1] === LONE_DEFAULTS[sent - 1]) sent--;
      // Pushed, not cut to length: setting an array's length runs in V8's runtime, slower than the pushes.
      const flat = [script, '1', keyPrefix + keys[0], 'L', policyArgs[0], policyArgs[1], policyArgs[2]];
      for (let i = 0; i < sent; i++) flat.push(optional[i]);
      return flat;
    }
    const flat: string[] = new Array(3 + keys.length + policyArgs.length + args.length);
    flat[0] = script;
    flat[1] = String(keys.length);
    let at = 2;
    for (let i = 0; i < keys.length; i++) flat[at++] = keyPrefix + keys[i];
    flat[at++] = String(this.policyCount);
    for (let i = 0; i < policyArgs.length; i++) flat[at++] = policyArgs[i];
    for (let i = 0; i < args.length; i++) flat[at++] = args[i];
    return flat;
  }

  private policyIndex(policy: GcraPolicy): string {
    if (policy === this.firstPolicy) return '1';
    let index = this.policyCount === 0 ? undefined : (this.policyIndexOf ??= new Map()).get(policy);
    if (index === undefined) {
      index = String(++this.policyCount);
      if (index === '1') this.firstPolicy = policy;
      else this.policyIndexOf!.set(policy, index);
      this.policyArgs.push(...this.policies.of(policy));
    }
    return index;
  }

  private keyIndex(policyId: string, key: string): number {
    if (this.keys.length === 0) {
      this.firstPolicyId = policyId;
      this.firstKey = key;
      this.keys.push(this.names.of(policyId, key));
      return 0;
    }
    if (key === this.firstKey && policyId === this.firstPolicyId) return 0;
    const indexOf = (this.indexOf ??= new Map());
    let byKey = indexOf.get(policyId);
    if (byKey === undefined) indexOf.set(policyId, (byKey = new Map()));
    let index = byKey.get(key);
    if (index === undefined) {
      index = this.keys.length;
      this.keys.push(this.names.of(policyId, key));
      byKey.set(key, index);
    }
    return index;
  }
}

/** What gcra.lua's lone form takes for each later argument left off: maxWaitMs, blockMs, cost, floor. */
const LONE_DEFAULTS = ['0', '0', '1', ''];

function costArg(cost: number): string {
  return cost === 1 ? '1' : toArg(cost);
}

/** '' for no floor (see `floored`). */
function floorArg(floor: number | undefined): string {
  return floor === undefined ? '' : toArg(floor);
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
