import { Command } from 'ioredis';
import { BatchSettlement } from './batch-settlement';
import type { Clock } from '../../core/clock';
import { GcraBatch, PolicyArgs, type BatchRecord } from './gcra-batch';
import { replayBatch, replyLines } from './gcra-replay';
import { nowOfTime, type GcraScript } from './gcra-script';
import type { RefusalCache } from './refusal-cache';
import { CLUSTER_SLOTS, type RedisKeyNames } from './redis-key-names';
import type { RedisConnection } from './redis-connection';

/** How many script calls may be in flight at once per hash slot: Redis works on one while the next is written and the last is replayed. */
export const MAX_IN_FLIGHT = 4;

/** The most requests one script call carries (its KEYS and ARGV stay small enough to parse in a few hundred µs). */
export const MAX_BATCH = 256;

/**
 * The fewest requests a call carries when a slot with nothing in flight shares its queue among its
 * places (unless fewer wait): there, a tick's requests up to this many go as one call, at one `now`.
 */
const IDLE_SHARE = 64;

/**
 * The fewest a call carries when the slot already has calls in flight (unless fewer wait): 16
 * callers then keep four calls of 4 in flight rather than two of 8, and Redis and Node each have
 * one to work on while the other answers theirs (10,000 keys: about +10 to +15 % decisions/s,
 * measured in turns; 2 read the same as 4, 8 loses the gain).
 */
const BUSY_SHARE = 4;

/**
 * Turns the requests one process makes in the same tick into few gcra.lua calls: requests are
 * queued, and the queue is written at the end of the tick (on process.nextTick, after the promise
 * continuations that queue more; at the end of the event-loop turn for a few while calls are in
 * flight, see `flush`; on the next turn while disconnected), shared among the places left of
 * MAX_IN_FLIGHT calls at once per hash slot (IDLE_SHARE to MAX_BATCH requests a
 * call when the slot has nothing in flight, BUSY_SHARE up when it has); what queues while they are
 * all in flight goes in the next one as soon as one returns. On Cluster one call carries one hash
 * slot (a script reaches one node), so a batch is split by slot.
 *
 * Calls bypass ioredis auto-pipelining (which keeps one pipeline in flight per node and so would
 * serialise them), are never resent after a reconnect (the client's settings), and run the script
 * by SHA; NOSCRIPT (after SCRIPT FLUSH, a restart or a failover) is answered by running it once
 * by EVAL, which loads it again, with no error to anyone. The first call on a new connection is an
 * EVAL at once: a server just restarted or promoted has an empty script cache, and the round trip
 * NOSCRIPT costs is what a failover under load can least afford. Any other error (connection,
 * OOM, BUSY) fails every request of that call. A reply that leaves its slot with nothing else in
 * flight is answered in two halves (BatchSettlement), so that the next call overlaps the replay.
 */
export class GcraBatcher {
  private queue: BatchRecord[] = [];
  private scheduled = false;
  /** Set by a failed call: the next flush waits for an event-loop turn (see `schedule`). */
  private failing = false;
  /** Calls in flight per hash slot (slot 0 on a single node): an array, read on every call and reply, not a map. */
  private readonly inFlight = new Uint8Array(CLUSTER_SLOTS);
  /** Calls in flight, all slots together. */
  private calls = 0;
  /** The flush was put off to the end of this turn's I/O once already (see `flush`). */
  private waited = false;
  private ready = false;
  /** Whether the connection is new (the server's script cache may be empty): the next call runs the script's text. */
  private cold = true;
  private readonly policies = new PolicyArgs();
  private readonly flushQueue = (): void => this.flush();

  constructor(
    private readonly connection: RedisConnection,
    private readonly script: GcraScript,
    private readonly names: RedisKeyNames,
    private readonly refusals: RefusalCache,
    private readonly clock: Clock,
    /** Settles once the client first connects (or fails to): until then calls wait for it. */
    private readonly connected: Promise<unknown>,
  ) {
    connection.onReady(() => {
      this.cold = true;
    });
  }

  /** Queues one request; its promise is settled by the call that carries it. */
  push(record: BatchRecord): void {
    this.queue.push(record);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Without a connection the call fails at once; a caller that retries in a loop would then
    // never let the event loop run (nor the reconnect it waits for): wait one turn instead. The
    // same after a failed call: a socket that dropped fails every write while the client still
    // says `ready` (it learns of the drop from an I/O callback, which that loop would starve).
    if (this.connection.client.status === 'ready' && !this.failing) process.nextTick(this.flushQueue);
    else setImmediate(this.flushQueue);
  }

  /**
   * Fewer than BUSY_SHARE requests while calls are in flight wait once for the end of the event
   * loop's turn (setImmediate): requests that each come in an I/O callback of their own (HTTP
   * requests, a socket each) would otherwise go one call each, and each call costs both processes
   * a write, a read and a wake-up (an HTTP server on Redis: half the round trips per request, 0.22
   * -> 0.09 on Express). A tick that queues more, as a reply's callers do, goes at once.
   */
  private flush(): void {
    if (this.calls > 0 && this.queue.length < BUSY_SHARE && !this.waited) {
      this.waited = true;
      setImmediate(this.flushQueue);
      return;
    }
    this.waited = false;
    this.scheduled = false;
    this.failing = false;
    if (this.queue.length === 0) return;
    const records = this.queue;
    this.queue = [];
    if (!this.connection.client.isCluster) this.sendSlot(0, records);
    else for (const [slot, group] of this.bySlot(records)) this.sendSlot(slot, group);
  }

  /**
   * A slot's records shared among the calls it has places for (256 callers and 4 places: 4 calls
   * of 64, so that Redis always has one to run while Node answers another, where 2 calls of 128
   * left it idle in between); what it cannot take waits for one of them, ahead of what queues next.
   */
  private sendSlot(slot: number, records: readonly BatchRecord[]): void {
    let sent = 0;
    let inFlight = this.inFlight[slot];
    const least = inFlight === 0 ? IDLE_SHARE : BUSY_SHARE;
    while (sent < records.length && inFlight < MAX_IN_FLIGHT) {
      const batch = new GcraBatch(this.names, this.policies);
      const share = Math.ceil((records.length - sent) / (MAX_IN_FLIGHT - inFlight));
      const end = Math.min(records.length, sent + Math.min(MAX_BATCH, Math.max(least, share)));
      while (sent < end) batch.add(records[sent++]);
      this.inFlight[slot] = ++inFlight;
      this.calls++;
      this.send(batch, slot);
    }
    while (sent < records.length) this.queue.push(records[sent++]);
  }

  /**
   * The records by the hash slot their call reaches, on Cluster: each slot has its own calls in
   * flight, so a master that hangs or dies holds up its own slots only.
   */
  private bySlot(records: readonly BatchRecord[]): Map<number, BatchRecord[]> {
    const groups = new Map<number, BatchRecord[]>();
    for (const record of records) {
      const slot = record.entries.length > 0 ? this.names.slotOf(record.entries[0].key) : 0;
      const group = groups.get(slot);
      if (group) group.push(record);
      else groups.set(slot, [record]);
    }
    return groups;
  }

  /**
   * One script call, once the client has first connected; every request of the batch is settled,
   * one way or the other. Callbacks rather than async functions: at one call in flight, each
   * promise a call passes through is latency.
   */
  private send(batch: GcraBatch, slot: number): void {
    if (!this.ready) {
      void this.connected.then(() => {
        this.ready = true;
        this.send(batch, slot);
      });
      return;
    }
    const sentAt = this.clock.now();
    const cold = this.cold;
    this.run(cold ? 'eval' : 'evalsha', cold ? this.script.lua : this.script.sha, batch).then(
      (reply) => {
        if (cold) this.cold = false;
        this.replied(batch, slot, sentAt, reply);
      },
      (error: unknown) => {
        if (cold || !(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) this.failed(batch, slot, error);
        else
          this.run('eval', this.script.lua, batch).then(
            (reply) => this.replied(batch, slot, sentAt, reply),
            (again: unknown) => this.failed(batch, slot, again),
          );
      },
    );
  }

  private replied(batch: GcraBatch, slot: number, sentAt: number, reply: unknown): void {
    const lines = replyLines(reply);
    if (lines !== undefined) this.refusals.observe(nowOfTime(lines[0], lines[1]), sentAt, this.clock.now());
    // This call alone in flight on its slot: Redis waits for the next one, so half the batch is answered at once (see BatchSettlement).
    const alone = this.inFlight[slot] === 1;
    this.landed(slot);
    const settlement = new BatchSettlement(batch.records, alone ? Math.ceil(batch.records.length / 2) : batch.records.length);
    replayBatch(batch, lines, this.refusals, sentAt, settlement);
    settlement.end();
  }

  private failed(batch: GcraBatch, slot: number, error: unknown): void {
    this.failing = true;
    this.landed(slot);
    for (const record of batch.records) record.call.reject(error);
  }

  /** A call of `slot` is back: its place is free for what waits. */
  private landed(slot: number): void {
    this.inFlight[slot]--;
    this.calls--;
    if (this.queue.length > 0) this.schedule();
  }

  /** One EVALSHA or EVAL, written at once (not through auto-pipelining); never throws: a failure rejects. */
  private run(name: 'evalsha' | 'eval', script: string, batch: GcraBatch): Promise<unknown> {
    const client = this.connection.client;
    const flat = batch.argv(script, client.options.keyPrefix ?? '');
    // Given to the Command after it is built: its constructor copies (flattens) its arguments,
    // which for a batch of thousands of them was the costliest step of a decision.
    const command = new Command(name);
    command.args = flat;
    try {
      void client.sendCommand(command);
    } catch (error) {
      command.reject(error as Error);
    }
    return command.promise;
  }
}
