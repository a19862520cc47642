import { Command } from 'ioredis';
import type { FairEntry } from '../limiter-store';
import { RedisKeyTypeError } from './gcra-replay';
import { fairKeys } from './fair-keys';
import { fairArgs, type FairOp, type FairScript } from './fair-script';
import type { RedisKeyNames } from './redis-key-names';
import type { RedisConnection } from './redis-connection';

/**
 * Runs fair.lua, one call per operation (a fair bucket's operations are per request and rare next
 * to decisions: not batched). By SHA; NOSCRIPT (a flush, restart or failover) runs it once by
 * EVAL, which loads it again. A key of the wrong type rejects with RedisKeyTypeError (the script
 * checks every key before it writes any), any other error as the client gives it.
 */
export class FairCaller {
  constructor(
    private readonly connection: RedisConnection,
    private readonly script: FairScript,
    private readonly names: RedisKeyNames,
    /** Settles once the client first connects (or fails to): until then calls wait for it. */
    private readonly connected: Promise<unknown>,
  ) {}

  /** One operation on `entry`'s bucket; resolves with the script's reply. */
  async call(op: FairOp, entry: FairEntry, lookaheadMs: number): Promise<unknown[]> {
    await this.connected;
    const keys = fairKeys(this.names.of(entry.policy.id, entry.key));
    const args = fairArgs(op, entry, lookaheadMs);
    let reply: unknown;
    try {
      try {
        reply = await this.run('evalsha', this.script.sha, keys, args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        reply = await this.run('eval', this.script.lua, keys, args);
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('WRONGTYPE')) throw new RedisKeyTypeError(`${error.message} (policy ${entry.policy.id})`);
      throw error;
    }
    if (!Array.isArray(reply)) throw new Error(`fair.lua: unexpected reply ${JSON.stringify(reply)}`);
    return reply;
  }

  /** One EVALSHA or EVAL, written at once (as GcraBatcher does: not through auto-pipelining). */
  private run(name: 'evalsha' | 'eval', script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const client = this.connection.client;
    const prefix = client.options.keyPrefix ?? '';
    const command = new Command(name, [], { replyEncoding: 'utf8' });
    command.args = [script, String(keys.length), ...keys.map((key) => prefix + key), ...args];
    void client.sendCommand(command);
    return command.promise;
  }
}
