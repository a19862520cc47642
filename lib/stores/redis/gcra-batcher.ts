import { Command } from 'ioredis';
import type { Clock } from '../../core/clock';
import { GcraBatch, PolicyArgs, type BatchRecord } from './gcra-batch';
import { replayBatch } from './gcra-replay';
import type { GcraScript } from './gcra-script';
import type { RefusalCache } from './refusal-cache';
import type { RedisKeyNames } from './redis-key-names';
import type { RedisClient } from './redis-store-options';

/** How many script calls may be in flight at once: Redis works on one while the next is written and the last is replayed. */
export const MAX_IN_FLIGHT = 4;

/** The most requests one script call carries (its KEYS and ARGV stay small enough to parse in a few hundred µs). */
export const MAX_BATCH = 256;

/**
 * Turns the requests one process makes in the same tick into as few gcra.lua calls as possible:
 * requests are queued, and the queue is written as one call at the end of the tick (on
 * process.nextTick, after the promise continuations that queue more; on the next event-loop turn
 * while disconnected), up to MAX_BATCH per call
 * and MAX_IN_FLIGHT calls at once; what queues while they are all in flight goes in the next one
 * as soon as one returns. On Cluster one call carries one hash slot (a script reaches one node),
 * so a batch is split by slot.
 *
 * Calls bypass ioredis auto-pipelining (which keeps one pipeline in flight per node and so would
 * serialise them), are never resent after a reconnect (the client's settings), and run the script
 * by SHA; NOSCRIPT (after SCRIPT FLUSH, a restart or a failover) is answered by running it once
 * by EVAL, which loads it again, with no error to anyone. Any other error (connection, OOM, BUSY)
 * fails every request of that call.
 */
export class GcraBatcher {
  private queue: BatchRecord[] = [];
  private scheduled = false;
  private inFlight = 0;
  private ready = false;
  private readonly policies = new PolicyArgs();
  private readonly flushQueue = (): void => this.flush();

  constructor(
    private readonly client: RedisClient,
    private readonly script: GcraScript,
    private readonly names: RedisKeyNames,
    private readonly refusals: RefusalCache,
    private readonly clock: Clock,
    /** Settles once the client first connects (or fails to): until then calls wait for it. */
    private readonly connected: Promise<unknown>,
  ) {}

  /** Queues one request; its promise is settled by the call that carries it. */
  push(record: BatchRecord): void {
    this.queue.push(record);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Without a connection the call fails at once; a caller that retries in a loop would then
    // never let the event loop run (nor the reconnect it waits for): wait one turn instead.
    if (this.client.status === 'ready') process.nextTick(this.flushQueue);
    else setImmediate(this.flushQueue);
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      let records: BatchRecord[];
      if (this.queue.length <= MAX_BATCH) {
        records = this.queue;
        this.queue = [];
      } else {
        records = this.queue.splice(0, MAX_BATCH);
      }
      this.inFlight++;
      void this.send(records).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  private async send(records: BatchRecord[]): Promise<void> {
    if (!this.ready) {
      await this.connected;
      this.ready = true;
    }
    if (!this.client.isCluster) {
      const batch = new GcraBatch(this.names, this.policies);
      for (const record of records) batch.add(record);
      await this.call(batch);
      return;
    }
    const bySlot = new Map<number, GcraBatch>();
    for (const record of records) {
      const slot = record.entries.length === 0 ? 0 : this.names.slotOf(record.entries[0].key);
      let batch = bySlot.get(slot);
      if (!batch) bySlot.set(slot, (batch = new GcraBatch(this.names, this.policies)));
      batch.add(record);
    }
    const calls: Promise<void>[] = [];
    for (const batch of bySlot.values()) calls.push(this.call(batch));
    await Promise.all(calls);
  }

  /** One script call; never rejects: every request of the batch is settled, one way or the other. */
  private async call(batch: GcraBatch): Promise<void> {
    const sentAt = this.clock.now();
    let reply: unknown;
    try {
      try {
        reply = await this.run('evalsha', this.script.sha, batch);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        reply = await this.run('eval', this.script.lua, batch);
      }
    } catch (error) {
      for (const record of batch.records) record.reject(error);
      return;
    }
    if (Array.isArray(reply)) this.refusals.observe(Number(reply[0]), sentAt, this.clock.now());
    replayBatch(batch, reply, this.refusals, sentAt);
  }

  /** One EVALSHA or EVAL, written at once (not through auto-pipelining). */
  private run(name: 'evalsha' | 'eval', script: string, batch: GcraBatch): Promise<unknown> {
    const command = new Command(name, [script, batch.keys.length, batch.keys, batch.args], { keyPrefix: this.client.options.keyPrefix });
    void this.client.sendCommand(command);
    return command.promise;
  }
}
