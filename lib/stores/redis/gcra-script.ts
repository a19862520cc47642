import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GcraPolicy } from '../../core/policy';

/**
 * The script ships as a real .lua file rather than a TS string: it can be read side by side with
 * lib/core/gcra.ts, run with `redis-cli --eval`, and loaded by redis-benchmark for the benches.
 * The build copies it next to this module (dist/lib/stores/redis/gcra.lua).
 */
const SCRIPT_PATH = join(__dirname, 'gcra.lua');

/** The text of gcra.lua and its SHA-1 (what EVALSHA names it by), read once per store. */
export interface GcraScript {
  readonly lua: string;
  readonly sha: string;
}

/** Reads gcra.lua (a bundler that leaves it behind fails here, with its path). */
export function loadGcraScript(): GcraScript {
  const lua = gcraLua();
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** The text of gcra.lua. */
export function gcraLua(): string {
  return readFileSync(SCRIPT_PATH, 'utf8');
}

/** The op letters of gcra.lua's batch format. */
export type GcraOp = 'd' | 'p' | 'c' | 's';

/** A number as the script reads it: String(x) round-trips a double exactly; Infinity as 'inf'. */
export function toArg(x: number): string {
  return x === Infinity ? 'inf' : String(x);
}

/** gcra.lua's EPOCH_S: the store counts time in ms from 2026-01-01 UTC (the script says why). */
const EPOCH_S = 1_767_225_600;

/** gcra.lua's `now`, from the TIME it replied with: the same double operations, so the same double. */
export function nowOfTime(seconds: string, micros: string): number {
  return ((Number(seconds) - EPOCH_S) * 1_000_000 + Number(micros)) / 1000;
}

/** A number the script sent as text (as Redis prints a number it is given: exactly; 'inf' for Infinity). */
export function fromReply(value: unknown): number {
  return value === 'inf' ? Infinity : Number(value);
}

/** A policy's shape and mode as the script reads them: one letter each. */
export function kindOf(policy: GcraPolicy): string {
  if (policy.shape === 'token-bucket') return policy.mode === 'reject' ? 'tr' : 'tw';
  return policy.mode === 'reject' ? 'lr' : 'lw';
}
