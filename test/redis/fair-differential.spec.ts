// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import { Command, type Redis } from 'ioredis';
import { afterFairOperation, beforeFairOperation, claimFloored, freshFairBucket, type FairBucket } from '../../lib/core/fair-bucket';
import { enqueue, leave, type ClaimResult, type EnqueueResult } from '../../lib/core/fair-queue';
import { decideAll } from '../../lib/core/gcra';
import { toGcraPolicy, type GcraPolicy } from '../../lib/core/policy';
import type { FairEntry } from '../../lib/stores/limiter-store';
import { FairCaller } from '../../lib/stores/redis/fair-caller';
import { fairKeys } from '../../lib/stores/redis/fair-keys';
import { loadFairScript } from '../../lib/stores/redis/fair-script';
import { RedisConnection } from '../../lib/stores/redis/redis-connection';
import { RedisKeyNames } from '../../lib/stores/redis/redis-key-names';
import { redisKey } from '../../lib/stores/redis/redis-keys';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectStandalone, uniquePrefix } from '../support/redis-env';
import { seededRandom } from '../support/seeded-random';

const OPS = 20_000;
/** fair.lua's epoch (gcra.lua's): Redis expiry times are ms since 1970, the script's `now` since this. */
const EPOCH_MS = 1_767_225_600_000;
/** How long after `expires` fair.lua's keys actually expire. */
const EXPIRY_SLACK_MS = 1000;
const WEIGHTS = [1, 2, 3, 0.5];
// 50 tenants, some of whose names order differently by UTF-16 unit and by byte, or hold spaces and newlines.
const TENANTS = [...Array.from({ length: 45 }, (_, i) => `t${i}`), 'ключ', '🙂', '\uff5e', 'a b\nc', ''];
// Slots from 0.5 ms (they drain between two calls) to 20 ms (the room stays full: push-outs, refusals).
const POLICIES: GcraPolicy[] = [
  toGcraPolicy({ id: 'leaky-fast', shape: 'leaky-bucket', mode: 'wait', rate: 2000, capacity: 12 }),
  toGcraPolicy({ id: 'leaky-slow', shape: 'leaky-bucket', mode: 'wait', rate: 50, capacity: 20, maxWaitMs: 300 }),
  toGcraPolicy({ id: 'token-fast', shape: 'token-bucket', mode: 'wait', rate: 1000, capacity: 8 }),
  toGcraPolicy({ id: 'token-slow', shape: 'token-bucket', mode: 'wait', rate: 300 / 7, capacity: 30, maxWaitMs: 500 }),
];
const KEYS = ['bank', 'other {bank}'];

/** fair.lua's `lines` member of a ticket: name length, name, start as big-endian double, seq, id. */
function lineMember(tenant: string, start: number, seq: number, id: string): string {
  const startBytes = Buffer.alloc(8);
  startBytes.writeDoubleBE(start);
  const name = Buffer.from(tenant, 'utf8');
  return Buffer.concat([Buffer.from(String(name.length).padStart(10, '0')), name, startBytes, Buffer.from(String(seq).padStart(16, '0') + id, 'utf8')]).toString('hex');
}

/** Every key of a fair bucket as it is at one instant, and that instant (Redis TIME). */
const DUMP_LUA = `
local expiry = {}
for k = 2, 8 do expiry[k - 1] = redis.call('PEXPIRETIME', KEYS[k]) end
return { redis.call('GET', KEYS[1]) or false, redis.call('HGETALL', KEYS[2]), redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES'),
  redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5]), redis.call('ZRANGE', KEYS[6], 0, -1, 'WITHSCORES'),
  redis.call('ZRANGE', KEYS[7], 0, -1, 'WITHSCORES'), redis.call('ZRANGE', KEYS[8], 0, -1), expiry, redis.call('TIME') }`;

/** A HGETALL reply as an object. */
function record(flat: Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i].toString('utf8')] = flat[i + 1].toString('utf8');
  return out;
}

/** A number fair.lua wrote ('%.17g': 'inf' and '-inf' for the infinities). */
function fromText(text: string): number {
  return text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
}

/** The pairs of a ZRANGE ... WITHSCORES reply. */
function pairs(flat: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], Number(flat[i + 1])]);
  return out;
}

/** Every field of a ticket or tenant record, split at the first spaces (a tenant name may hold spaces). */
function fields(text: string, numbers: number): { numbers: number[]; rest: string } {
  const parts = text.split(' ');
  return { numbers: parts.slice(0, numbers).map(Number), rest: parts.slice(numbers).join(' ') };
}

/**
 * Compares the Redis keys of one bucket with the model's state: every field exactly, or, where a
 * key is gone, the model agreeing that it may be (its expiry passed before `readBy`).
 */
async function compareState(client: Redis, prefix: string, policy: GcraPolicy, key: string, bucket: FairBucket, now: number): Promise<string | undefined> {
  const [tatKey, stateKey, orderKey, ticketsKey, tenantsKey, idleKey, loadKey, linesKey] = fairKeys(redisKey(prefix, policy.id, key));
  const fair = [stateKey, orderKey, ticketsKey, tenantsKey, idleKey, loadKey, linesKey];
  // Read in one script: Redis expires keys on one clock during a script, not during a MULTI, so
  // the keys of a state that expires as it is read are either all there or all gone.
  const command = new Command('eval');
  command.args = [DUMP_LUA, '8', tatKey, ...fair];
  void client.sendCommand(command);
  const reply = (await command.promise) as (Buffer | null | Buffer[] | number[])[];
  const text = (b: Buffer) => b.toString('utf8');
  const tatText = reply[0] === null ? null : text(reply[0] as Buffer);
  const hash = record(reply[1] as Buffer[]);
  const order = (reply[2] as Buffer[]).map(text);
  const tickets = record(reply[3] as Buffer[]);
  const tenants = record(reply[4] as Buffer[]);
  const idle = (reply[5] as Buffer[]).map(text);
  const load = (reply[6] as Buffer[]).map(text);
  const lines = reply[7] as Buffer[];
  const expiryTimes = reply[8] as number[];
  const time = (reply[9] as Buffer[]).map(text);
  const readBy = (Number(time[0]) * 1e6 + Number(time[1])) / 1000 - EPOCH_MS;
  const { state } = bucket;

  const tat = tatText === null ? undefined : Number(tatText);
  const tatGone = state.tat === undefined || state.tat <= now || Math.ceil(state.tat) <= readBy;
  if (tat === undefined ? !tatGone : !Object.is(tat, state.tat)) return `tat: redis ${tatText}, core ${state.tat}`;

  if (hash.v === undefined) {
    const others = [order.length, Object.keys(tickets).length, Object.keys(tenants).length, idle.length, load.length, lines.length];
    if (others.some((n) => n > 0)) return `fair keys without a state hash: ${JSON.stringify(others)}`;
    if (bucket.expires !== undefined && !(bucket.expires + EXPIRY_SLACK_MS < readBy)) return `fair keys gone, the core's expire at ${bucket.expires} (read by ${readBy})`;
    return undefined;
  }
  if (bucket.expires === undefined) return `fair keys left, the core has none: ${JSON.stringify(hash)}`;
  const stateFields = { v: state.virtualTime, seq: state.seq, units: state.units, until: bucket.until, expires: bucket.expires };
  for (const [field, value] of Object.entries(stateFields)) {
    if (!Object.is(fromText(hash[field]), value)) return `state.${field}: redis ${hash[field]}, core ${value}`;
  }
  for (let i = 0; i < fair.length; i++) {
    const at = bucket.expires + EXPIRY_SLACK_MS + EPOCH_MS;
    if (expiryTimes[i] !== -2 && expiryTimes[i] !== at) return `${fair[i]} expires at ${expiryTimes[i]}, expected ${at}`;
  }

  const expectedOrder = [...state.order].map((t) => [String(t.seq).padStart(16, '0') + t.id, t.start]);
  if (JSON.stringify(pairs(order)) !== JSON.stringify(expectedOrder)) return `order: redis ${JSON.stringify(pairs(order))}, core ${JSON.stringify(expectedOrder)}`;
  if (Object.keys(tickets).length !== state.tickets.size) return `tickets: redis ${Object.keys(tickets).length}, core ${state.tickets.size}`;
  for (const t of state.tickets.values()) {
    const text = tickets[t.id];
    if (text === undefined) return `ticket ${t.id} missing`;
    const { numbers, rest } = fields(text, 5);
    const expected = [t.weight, t.cost, t.start, t.seq, t.expiresAt];
    if (!expected.every((x, i) => Object.is(x, numbers[i])) || rest !== t.tenant) return `ticket ${t.id}: redis ${JSON.stringify(text)}, core ${JSON.stringify(t)}`;
  }
  if (Object.keys(tenants).length !== state.tenants.size) return `tenants: redis ${JSON.stringify(tenants)}, core ${JSON.stringify([...state.tenants])}`;
  for (const [name, t] of state.tenants) {
    const text = tenants[name];
    if (text === undefined) return `tenant ${JSON.stringify(name)} missing`;
    const { numbers } = fields(text, 3);
    if (!Object.is(numbers[0], t.finish) || !Object.is(numbers[1], t.waiting) || !Object.is(numbers[2], t.weight)) return `tenant ${JSON.stringify(name)}: redis ${text}, core ${JSON.stringify(t)}`;
  }
  const expectedIdle = [...state.idle].map((name) => [name, state.tenants.get(name)!.finish]);
  if (JSON.stringify(pairs(idle)) !== JSON.stringify(expectedIdle)) return `idle: redis ${JSON.stringify(pairs(idle))}, core ${JSON.stringify(expectedIdle)}`;
  const expectedLoad = new Map([...state.tenants].filter(([, t]) => t.waiting > 0).map(([name, t]) => [name, t.waiting / t.weight]));
  const loads = pairs(load);
  if (loads.length !== expectedLoad.size || !loads.every(([name, l]) => Object.is(expectedLoad.get(name), l))) return `load: redis ${JSON.stringify(loads)}, core ${JSON.stringify([...expectedLoad])}`;
  const expectedLines = [...state.tickets.values()].map((t) => lineMember(t.tenant, t.start, t.seq, t.id)).sort();
  const actualLines = lines.map((b) => b.toString('hex')).sort();
  if (JSON.stringify(actualLines) !== JSON.stringify(expectedLines)) return `lines: redis ${actualLines.length} members, core ${expectedLines.length}, or they differ`;
  return undefined;
}

/** Object.is on every field, arrays element by element. */
function sameResult(a: EnqueueResult | ClaimResult, b: EnqueueResult | ClaimResult): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (JSON.stringify(ka) !== JSON.stringify(kb)) return false;
  return ka.every((k) => {
    const x = (a as unknown as Record<string, unknown>)[k];
    const y = (b as unknown as Record<string, unknown>)[k];
    return Array.isArray(x) && Array.isArray(y) ? x.length === y.length && x.every((v, i) => v === y[i]) : Object.is(x, y);
  });
}

describe('fair.lua against lib/core/fair-queue (differential)', () => {
  let client: Redis;
  beforeAll(() => {
    client = connectStandalone();
  });
  afterAll(() => client.quit());

  it(`${OPS} random enqueue / claim / leave operations of up to 50 weighted tenants on several buckets give lib/core's results and state`, async () => {
    const seed = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    const prefix = uniquePrefix('fair-differential');
    const store = new RedisStore({ redis: client, prefix, refusalCacheMs: 0 });
    const caller = new FairCaller(new RedisConnection(client), loadFairScript(), new RedisKeyNames(prefix), Promise.resolve());
    const buckets = new Map<string, FairBucket>();
    const bucketId = (policy: GcraPolicy, key: string) => `${policy.id}\u0000${key}`;
    // A tenant's weight changes now and then (the core takes the latest).
    const weights = new Map(TENANTS.map((t) => [t, pick(WEIGHTS)]));
    // Tickets handed out per bucket; some are abandoned (never claimed again): they expire.
    const abandoned = new Set<string>();
    let ids = 0;
    const begin = (bucket: FairBucket, now: number): FairBucket => {
      const after = beforeFairOperation(bucket, now);
      if (after !== bucket) counts.expiredDropped++;
      return after;
    };
    const counts = { admitted: 0, held: 0, refused: 0, invalid: 0, pushedOut: 0, go: 0, wait: 0, gone: 0, left: 0, notHeld: 0, floors: 0, decides: 0, expiredHeads: 0, idleDropped: 0, expiredDropped: 0 };

    for (let i = 0; i < OPS; i++) {
      const policy = pick(POLICIES);
      const key = pick(KEYS);
      const id = bucketId(policy, key);
      let bucket = buckets.get(id) ?? freshFairBucket(undefined);
      const live = [...bucket.state.order].filter((t) => !abandoned.has(t.id));
      const entry = (ticket: string, tenant: string, cost: number, floor?: number): FairEntry => ({
        policy,
        key,
        ticket,
        tenant,
        weight: weights.get(tenant) ?? 1,
        cost,
        graceMs: pick([0, 5, 100, 1000]),
        floor,
      });
      const fail = (op: string, detail: string) => new Error(`seed ${seed}, operation ${i} (${op} on ${policy.id}/${JSON.stringify(key)}): lib/core and fair.lua disagree\n${detail}`);
      const roll = next();
      const ticketsBefore = bucket.state.tickets.size;
      let removedKnown = 0;
      let op: string;
      let now: number;

      if (roll < 0.4) {
        op = 'enqueue';
        // Half from three heavy tenants (they fill the room; the others push their newest out).
        const tenant = next() < 0.5 ? pick(TENANTS.slice(0, 3)) : pick(TENANTS);
        if (next() < 0.05) weights.set(tenant, pick(WEIGHTS));
        const roll2 = next();
        const cost = roll2 < 0.02 ? policy.capacity + 1 : 1 + Math.floor(next() * 3);
        const e = roll2 > 0.98 ? { ...entry(`r${ids++}`, tenant, cost), weight: 0 } : entry(`r${ids++}`, tenant, cost);
        if (next() < 0.15) abandoned.add(e.ticket);
        const verdict = await store.enqueue(e);
        now = verdict.now;
        bucket = begin(bucket, now);
        const expected = enqueue(bucket.state, now, policy, { id: e.ticket, tenant: e.tenant, weight: e.weight, cost: e.cost, graceMs: e.graceMs });
        if (!sameResult(verdict.result, expected)) throw fail(op, `expected ${JSON.stringify(expected)}\nactual   ${JSON.stringify(verdict.result)}`);
        if (expected.status === 'admitted') counts.admitted++;
        else if (expected.retryAfterMs === Infinity) counts.invalid++;
        else counts.refused++;
        counts.pushedOut += expected.pushedOut.length;
        removedKnown = expected.pushedOut.length - (expected.status === 'admitted' ? 1 : 0);
      } else if (roll < 0.45 && live.length > 0) {
        op = 'enqueue again';
        const t = pick(live);
        const e = entry(t.id, t.tenant, t.cost);
        const verdict = await store.enqueue(e);
        now = verdict.now;
        bucket = begin(bucket, now);
        const expected = enqueue(bucket.state, now, policy, { id: e.ticket, tenant: e.tenant, weight: e.weight, cost: e.cost, graceMs: e.graceMs });
        if (!sameResult(verdict.result, expected)) throw fail(op, `expected ${JSON.stringify(expected)}\nactual   ${JSON.stringify(verdict.result)}`);
        counts.held++;
      } else if (roll < 0.85) {
        op = 'claim';
        // Mostly the head (its turn), else any live ticket, now and then one that is gone.
        const head = bucket.state.order.first();
        const t = next() < 0.55 && head !== undefined && !abandoned.has(head.id) ? head : live.length > 0 && next() < 0.95 ? pick(live) : undefined;
        const floor = next() < 0.1 ? (bucket.state.tat ?? 0) + (next() - 0.3) * policy.tauMs : undefined;
        if (floor !== undefined) counts.floors++;
        const e = t ? entry(t.id, t.tenant, t.cost, floor) : entry(`gone-${i}`, 't0', 1, floor);
        const lookaheadMs = pick([0, policy.emissionMs, 5 * policy.emissionMs, 1000]);
        const verdict = await store.claim(e, lookaheadMs);
        now = verdict.now;
        bucket = begin(bucket, now);
        const expected = claimFloored(bucket, now, policy, e.ticket, floor, { lookaheadMs, graceMs: e.graceMs });
        if (!sameResult(verdict.result, expected)) throw fail(op, `expected ${JSON.stringify(expected)}\nactual   ${JSON.stringify(verdict.result)}`);
        counts[expected.status]++;
        removedKnown = expected.status === 'go' ? 1 : 0;
      } else if (roll < 0.95) {
        op = 'leave';
        const t = live.length > 0 && next() < 0.9 ? pick(live) : undefined;
        const e = t ? entry(t.id, t.tenant, t.cost) : entry(`never-${i}`, 't1', 1);
        const reply = await caller.call('l', e, 0);
        now = Number(reply[0]);
        bucket = begin(bucket, now);
        const expected = leave(bucket.state, e.ticket);
        if (Number(reply[1]) !== (expected ? 1 : 0)) throw fail(op, `expected ${expected}, actual ${reply[1]}`);
        counts[expected ? 'left' : 'notHeld']++;
        removedKnown = expected ? 1 : 0;
      } else {
        // A request on the same bucket that is not fair: it shares the tat (gcra.lua's own key).
        op = 'decide';
        const cost = 1 + Math.floor(next() * 2);
        const verdict = await store.decide([{ policy, key, cost }]);
        now = verdict.now;
        bucket = begin(bucket, now);
        const [expected] = decideAll([bucket.state.tat], now, [policy], [cost]);
        if (!Object.is(verdict.outcomes[0].tat, expected.tat) || verdict.outcomes[0].admits !== expected.admits) throw fail(op, `expected ${JSON.stringify(expected)}\nactual   ${JSON.stringify(verdict.outcomes[0])}`);
        if (expected.admits) bucket.state.tat = expected.tat;
        counts.decides++;
        buckets.set(id, bucket);
        continue;
      }
      counts.expiredHeads += Math.max(0, ticketsBefore - bucket.state.tickets.size - removedKnown);
      const wasKept = bucket.expires !== undefined || bucket.state.order.size > 0;
      bucket = afterFairOperation(bucket, now);
      if (wasKept && bucket.expires === undefined) counts.idleDropped++;
      buckets.set(id, bucket);
      const problem = await compareState(client, prefix, policy, key, bucket, now);
      if (problem !== undefined) throw fail(op, problem);
    }
    const least = { admitted: 800, held: 100, refused: 300, invalid: 30, pushedOut: 40, go: 150, wait: 600, gone: 200, left: 200, notHeld: 50, floors: 100, decides: 100, expiredHeads: 200, idleDropped: 30, expiredDropped: 20 };
    const covered = Object.entries(least).every(([name, n]) => counts[name as keyof typeof counts] >= n);
    if (!covered) throw new Error(`seed ${seed}: the run covered too little: ${JSON.stringify(counts)}`);
    console.log(`fair differential, seed ${seed}: ${JSON.stringify(counts)}`);
    // Its work is fixed (OPS operations, each a script call and a read of the state back): 9.5 s
    // alone on one machine of this kind, 40 s on another (Redis round trips four times as slow),
    // over the suite's 30 s default within a CI run there.
  }, 180_000);
});
