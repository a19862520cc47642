import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClaimResult, EnqueueResult } from '../../core/fair-queue';
import type { FairEntry, FairVerdict } from '../limiter-store';
import { fromReply, kindOf, toArg } from './gcra-script';

/** Shipped as a .lua file next to this module, as gcra.lua is (the build must copy it too). */
const SCRIPT_PATH = join(__dirname, 'fair.lua');

/** The text of fair.lua and its SHA-1 (what EVALSHA names it by). */
export interface FairScript {
  readonly lua: string;
  readonly sha: string;
}

/** Reads fair.lua (a bundler that leaves it behind fails here, with its path). */
export function loadFairScript(): FairScript {
  const lua = readFileSync(SCRIPT_PATH, 'utf8');
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** fair.lua's operations: enqueue, claim, leave. */
export type FairOp = 'e' | 'c' | 'l';

/** fair.lua's ARGV for one operation on `entry` (`lookaheadMs` is read by a claim only). */
export function fairArgs(op: FairOp, entry: FairEntry, lookaheadMs: number): string[] {
  const { policy } = entry;
  return [
    op,
    kindOf(policy),
    toArg(policy.emissionMs),
    toArg(policy.tauMs),
    toArg(policy.maxWaitMs),
    toArg(policy.capacity),
    entry.ticket,
    entry.tenant,
    toArg(entry.weight),
    toArg(entry.cost),
    toArg(entry.graceMs),
    toArg(lookaheadMs),
    entry.floor === undefined ? '' : toArg(entry.floor),
  ];
}

/** An enqueue's reply: { now, 'a', estimateMs, freePlaces, ...pushedOut } or { now, 'r', retryAfterMs, freePlaces }. */
export function enqueueVerdict(reply: unknown[]): FairVerdict<EnqueueResult> {
  const now = fromReply(reply[0]);
  if (reply[1] === 'a') return { now, result: { status: 'admitted', estimateMs: fromReply(reply[2]), freePlaces: fromReply(reply[3]), pushedOut: reply.slice(4).map(String) } };
  if (reply[1] === 'r') return { now, result: { status: 'refused', retryAfterMs: fromReply(reply[2]), freePlaces: fromReply(reply[3]), pushedOut: [] } };
  throw unexpected(reply);
}

/** A claim's reply: { now, 'g', departureAt, delayMs, tat }, { now, 'w', estimateMs } or { now, 'x' }. */
export function claimVerdict(reply: unknown[]): FairVerdict<ClaimResult> {
  const now = fromReply(reply[0]);
  if (reply[1] === 'g') return { now, result: { status: 'go', departureAt: fromReply(reply[2]), delayMs: fromReply(reply[3]), tat: fromReply(reply[4]) } };
  if (reply[1] === 'w') return { now, result: { status: 'wait', estimateMs: fromReply(reply[2]) } };
  if (reply[1] === 'x') return { now, result: { status: 'gone' } };
  throw unexpected(reply);
}

/** A leave's reply: { now, 1 } when the ticket was in line, { now, 0 } when it was not. */
export function leaveVerdict(reply: unknown[]): FairVerdict<boolean> {
  if (reply[1] === 1 || reply[1] === 0) return { now: fromReply(reply[0]), result: reply[1] === 1 };
  throw unexpected(reply);
}

function unexpected(reply: unknown[]): Error {
  return new Error(`fair.lua: unexpected reply ${JSON.stringify(reply)}`);
}
