import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis, Result } from 'ioredis';
import { decideAll, peek } from '../../core/gcra';
import type { StoreEntry, StoreVerdict } from '../limiter-store';

/**
 * The script ships as a real .lua file rather than a TS string: it can be read side by side with
 * lib/core/gcra.ts, run with `redis-cli --eval`, and loaded by redis-benchmark for the benches.
 * The build copies it next to this module (dist/lib/stores/redis/gcra.lua).
 */
const SCRIPT_PATH = join(__dirname, 'gcra.lua');

/**
 * The most entries (policies) one request may have on RedisStore. The script is registered once
 * per key count, with `numberOfKeys` fixed, because ioredis routes an auto-pipelined custom
 * command on Cluster by its first argument: with a variadic command that is the key count, and
 * every decision would be pipelined to the slot of "1" (CROSSSLOT). All counts are registered up
 * front: an auto-pipeline copies the commands defined when it is created.
 */
export const MAX_ENTRIES = 16;

/** The command that runs gcra.lua over `count` keys. */
export type GcraCommand = `nestLimiterGcra${number}`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** gcra.lua over N keys (`nestLimiterGcra0` … `nestLimiterGcra16`): the keys, then the op and its per-key arguments. */
    [command: GcraCommand]: (...keysThenArgs: string[]) => Result<(string | number)[], Context>;
  }
}

/** The name gcra.lua is registered under for `count` keys. */
export function gcraCommand(count: number): GcraCommand {
  return `nestLimiterGcra${count}`;
}

/** Registers gcra.lua on a client for 0 to MAX_ENTRIES keys; again on a shared client, it replaces the same script. */
export function defineGcraCommands(client: Pick<Redis, 'defineCommand'>): void {
  const lua = gcraLua();
  for (let count = 0; count <= MAX_ENTRIES; count++) client.defineCommand(gcraCommand(count), { lua, numberOfKeys: count });
}

let source: string | undefined;

/** The text of gcra.lua, read once (a bundler that leaves it behind fails here, with its path). */
export function gcraLua(): string {
  source ??= readFileSync(SCRIPT_PATH, 'utf8');
  return source;
}

/** A number as the script reads it: String(x) round-trips a double exactly. */
export function toArg(x: number): string {
  return x === Infinity ? 'inf' : String(x);
}

function fromReply(value: string | number): number {
  return value === 'inf' ? Infinity : Number(value);
}

/** The per-key arguments of `decide`: the policy in the units of lib/core, and the cost. */
export function decideArgs(entries: readonly StoreEntry[]): string[] {
  return entries.flatMap(({ policy, cost }) => [
    policy.shape,
    policy.mode,
    toArg(policy.emissionMs),
    toArg(policy.tauMs),
    toArg(policy.maxWaitMs),
    toArg(cost),
  ]);
}

/** The per-key arguments of `cancel`: the tat the decision left, and the increment to give back (as MemoryStore computes it). */
export function cancelArgs(entries: readonly StoreEntry[], reservedTats: readonly number[]): string[] {
  return entries.flatMap((e, i) => [toArg(reservedTats[i]), toArg(e.cost * e.policy.emissionMs)]);
}

/** The per-key arguments of `settle`: what `settle` in lib/core needs of the policy, the tat the decision left, and actual - charged units. */
export function settleArgs(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): string[] {
  return entries.flatMap(({ policy }, i) => [policy.shape, policy.mode, toArg(policy.emissionMs), toArg(reservedTats[i]), toArg(deltas[i])]);
}

/** A tat as the script read it: the stored text, or '' for no state. */
function storedTat(value: string | number): number | undefined {
  return value === '' ? undefined : fromReply(value);
}

/**
 * The outcomes of a `decide`, computed with lib/core from the state the script read and the `now`
 * it used (as MemoryStore does): the same doubles, so the same numbers. The script decided whether
 * to charge; lib/core must agree, or the two have drifted apart and the reply is not trusted.
 */
export function decideVerdict(reply: readonly (string | number)[], entries: readonly StoreEntry[]): StoreVerdict {
  expectLength(reply, 2 + entries.length);
  const now = fromReply(reply[0]);
  const outcomes = decideAll(
    entries.map((_, i) => storedTat(reply[i + 2])),
    now,
    entries.map((e) => e.policy),
    entries.map((e) => e.cost),
  );
  if (outcomes.every((o) => o.admits) !== (Number(reply[1]) === 1)) throw new Error('gcra.lua and lib/core disagree on whether to charge');
  return { now, outcomes };
}

/** The outcomes of a `peek`: the state the script read, seen by lib/core at the script's `now`. */
export function peekVerdict(reply: readonly (string | number)[], entries: readonly StoreEntry[]): StoreVerdict {
  expectLength(reply, 1 + entries.length);
  const now = fromReply(reply[0]);
  return { now, outcomes: entries.map((e, i) => peek(storedTat(reply[i + 1]), now, e.policy)) };
}

function expectLength(reply: readonly unknown[], length: number): void {
  if (reply.length !== length) throw new Error(`gcra.lua: expected ${length} reply values, got ${reply.length}`);
}
