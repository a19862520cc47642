import { Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from './redis-store-options';

/** How long a sentinel watcher waits between reconnects, in ms (as the store's own client). */
const WATCH_RETRY_MS = 100;

/**
 * The connection the store calls through: its client, and, for a Sentinel setup the store made
 * itself, a direct connection to a newly promoted master, lent from the moment a sentinel
 * announces the promotion (`+switch-master`) until the client has found the master through the
 * sentinels. Under load each event-loop turn is long, and the client's way back (connect to a
 * sentinel, ask it, connect to the master) takes three of them where the announced address takes
 * one. The announcement also moves the client on when the old master is alive and demoted (a
 * manual failover), where it would otherwise go on writing to a replica.
 */
export class RedisConnection {
  private lent?: Redis;
  private readonly watchers: Redis[] = [];
  private readonly readyListeners: (() => void)[] = [];
  /** On the client's 'ready', taken off at close: a client passed in outlives the stores made on it. */
  private readonly mainReady = (): void => {
    this.giveBack();
    this.ready();
  };

  constructor(
    private readonly main: RedisClient,
    /** The options the store made a Sentinel client from; undefined: no lending (a single node, a Cluster, a client passed in). */
    sentinel?: RedisOptions,
  ) {
    main.on('ready', this.mainReady);
    if (sentinel?.sentinels?.length && sentinel.name) this.watch(sentinel);
  }

  /** The client to call now: the lent one once it is ready, while it stands in for the store's own. */
  get client(): RedisClient {
    return this.lent?.status === 'ready' ? this.lent : this.main;
  }

  /** Calls `listener` each time a connection becomes ready to take calls (the client's, or a lent one). */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** Closes the watchers and any lent connection (the client is closed by its owner). */
  close(): void {
    this.main.off('ready', this.mainReady);
    this.giveBack();
    for (const watcher of this.watchers) watcher.disconnect();
  }

  private watch(options: RedisOptions): void {
    const { sentinels, name, sentinelPassword, sentinelUsername } = options;
    for (const { host, port } of sentinels!) {
      const watcher = new Redis({
        host,
        port,
        username: sentinelUsername ?? undefined,
        password: sentinelPassword ?? undefined,
        retryStrategy: () => WATCH_RETRY_MS,
        maxRetriesPerRequest: null,
      });
      watcher.on('error', () => undefined);
      watcher.on('message', (_channel: string, message: string) => {
        const [master, , , newHost, newPort] = message.split(' ');
        if (master === name) this.lend(options, newHost, Number(newPort));
      });
      void watcher.subscribe('+switch-master').catch(() => undefined);
      this.watchers.push(watcher);
    }
  }

  /** Connects to the announced master and calls through it once ready, until the client is ready again. */
  private lend(options: RedisOptions, host: string, port: number): void {
    this.giveBack();
    const { sentinels: _sentinels, name: _name, ...direct } = options;
    const lent = new Redis({ ...direct, host, port });
    lent.on('error', () => undefined);
    lent.once('ready', () => {
      if (this.lent !== lent) return;
      this.ready();
    });
    this.lent = lent;
    // A client still connected was talking to the old master, alive and now a replica: move it on.
    if (this.main.status === 'ready') (this.main as Redis).disconnect(true);
  }

  private giveBack(): void {
    const lent = this.lent;
    if (!lent) return;
    this.lent = undefined;
    lent.disconnect();
  }

  private ready(): void {
    for (const listener of this.readyListeners) listener();
  }
}
