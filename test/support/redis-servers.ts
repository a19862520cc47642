import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where globalSetup leaves the servers it started, for globalTeardown (both run in Jest's parent process). */
export const STARTED = Symbol.for('nest-limiter.test.redis-servers');

/** A redis-server this process started: stopped by pid, its temp --dir removed. */
export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly dir: string;
}

/** Every server this process still runs: a fatal signal or exit must not orphan them. */
const running = new Set<Running>();
let guarded = false;

function killNow(server: Running): void {
  running.delete(server);
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  rmSync(server.dir, { recursive: true, force: true });
}

/** Node skips 'exit' handlers on fatal signals, so Ctrl-C is caught, cleaned up after, and re-raised. */
function guardProcess(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => running.forEach(killNow));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      running.forEach(killNow);
      process.kill(process.pid, signal);
    });
  }
}

/** Where freePort() looks: below the OS's ephemeral ports (32768+) and the Cluster nodes' ports and buses (10000-32767). */
const QUIET_PORTS = { from: 2_000, count: 8_000 };

/**
 * A loopback port nobody listens on right now (bind, read, release): `port` itself, or, without
 * one, a port the OS never hands out on its own, so that a server on port 0 (a test's Nest app) or
 * a client's own end cannot take it while a test keeps it for a Redis it has stopped (a CI run saw
 * ioredis reach the test's HTTP server there: "Unknown RESP type 72").
 */
export async function freePort(port?: number): Promise<number> {
  if (port !== undefined) return bindAndRelease(port);
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = QUIET_PORTS.from + Math.floor(Math.random() * QUIET_PORTS.count);
    const bound = await bindAndRelease(candidate).catch(() => undefined);
    if (bound !== undefined) return bound;
  }
  return bindAndRelease(0);
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => {
      const { port: bound } = probe.address() as { port: number };
      probe.close(() => resolve(bound));
    });
  });
}

/**
 * Starts redis-server on `port` (no persistence, a temp --dir) and resolves once it accepts
 * connections. `config`, if given, is written to redis.conf in that dir and loaded first: a
 * sentinel needs a config file it can rewrite.
 */
export async function startRedisServer(port: number, extra: readonly string[] = [], config?: string): Promise<RedisServer> {
  guardProcess();
  const dir = mkdtempSync(join(tmpdir(), 'nest-limiter-redis-'));
  const file = join(dir, 'redis.conf');
  if (config !== undefined) writeFileSync(file, config);
  const args = [...(config === undefined ? [] : [file]), '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server: Running = { child, dir };
  running.add(server);
  // A sentinel never says it is ready to accept connections; it is once it monitors its master.
  const ready = extra.includes('--sentinel') ? '+monitor master' : 'Ready to accept connections';
  try {
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`redis-server :${port} not ready after 10 s:\n${log}`)), 10_000);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server :${port} exited (${code}):\n${log}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        log += chunk;
        if (log.includes(ready)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    killNow(server);
    throw error;
  }
  child.removeAllListeners('exit');
  child.stdout!.removeAllListeners('data').resume();
  // Unreferenced, a server cannot keep Jest alive after a failed setup; stop() references it again.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      if (!running.has(server)) return;
      running.delete(server);
      child.ref();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid!, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a standalone server on a free port, retrying if another process takes the port first. */
export async function startStandalone(extra: readonly string[] = [], config?: (port: number) => string): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      const port = await freePort();
      return await startRedisServer(port, extra, config?.(port));
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/**
 * Cluster node ports: each node also binds port + 10000 (the bus), so both must be free and stay
 * below the ephemeral range (32768+): nodes take 10000–22767.
 */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 10_000 + Math.floor(Math.random() * 12_768);
    if (ports.some((p) => Math.abs(p - port) === 10_000 || p === port)) continue;
    const free = await Promise.all([freePort(port), freePort(port + 10_000)]).then(
      () => true,
      () => false,
    );
    if (free) ports.push(port);
  }
  return ports;
}

/** How startCluster builds its Cluster. */
export interface ClusterShape {
  /** Replicas per master. @default 0 */
  replicas?: number;
  /** cluster-node-timeout: how long a silent node takes to be marked failing, in ms. @default 2000 */
  nodeTimeoutMs?: number;
  /** More redis-server arguments for every node. */
  extra?: readonly string[];
}

/**
 * Starts a local Redis Cluster of `masters` masters, each with `replicas` replicas, and resolves
 * once every node reports cluster_state:ok, knows every other node, and every replica has
 * synced with its master (a replica that never synced does not stand for election).
 */
export async function startCluster(masters = 3, { replicas = 0, nodeTimeoutMs = 2000, extra = [] }: ClusterShape = {}): Promise<RedisServer[]> {
  const ports = await clusterPorts(masters * (1 + replicas));
  const nodes: RedisServer[] = [];
  try {
    const started = await Promise.allSettled(
      ports.map((port) =>
        startRedisServer(port, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs), ...extra]),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
    for (const port of ports) await waitFor(() => clusterOk(port, ports.length, masters * replicas), `cluster node :${port} to report cluster_state:ok`);
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
}

/** Whether the node at `port` sees the whole cluster: state ok, every node, every replica following its master, and (a replica) synced. */
async function clusterOk(port: number, size: number, replicas: number): Promise<boolean> {
  const info = async (...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 })).stdout;
  const cluster = await info('cluster', 'info');
  if (!cluster.includes('cluster_state:ok') || !cluster.includes(`cluster_known_nodes:${size}\r`)) return false;
  // A line of CLUSTER NODES: <id> <address> <flags> <master id, or - for a master> ...
  const following = (await info('cluster', 'nodes')).split('\n').filter((line) => /^\S+ \S+ \S*slave\S* [0-9a-f]{40} /.test(line));
  if (following.length !== replicas) return false;
  const replication = await info('info', 'replication');
  return replication.includes('role:master') || replication.includes('master_link_status:up');
}

/** A master, its replica and three sentinels watching it under `name` (quorum 2). */
export interface SentinelSetup {
  readonly name: string;
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinels: readonly RedisServer[];
  /** Stops every process still running, by pid. */
  stop(): Promise<void>;
}

/** How quickly the sentinels act. */
export interface SentinelTiming {
  /** down-after-milliseconds: how long the master may be silent before a sentinel thinks it down. @default 500 */
  downAfterMs?: number;
  /** failover-timeout: an election that failed is retried after twice this, in ms. @default 2000 */
  failoverTimeoutMs?: number;
}

/**
 * Starts a Sentinel setup on free loopback ports and resolves once the replica has synced and
 * every sentinel knows the replica and the other two sentinels (so a failover can start at once).
 */
export async function startSentinelSetup({ downAfterMs = 500, failoverTimeoutMs = 2000 }: SentinelTiming = {}): Promise<SentinelSetup> {
  const name = 'limiter-master';
  const servers: RedisServer[] = [];
  const stop = () => Promise.all(servers.map((s) => s.stop())).then(() => undefined);
  try {
    const master = await startStandalone();
    servers.push(master);
    const replica = await startStandalone(['--replicaof', '127.0.0.1', String(master.port)]);
    servers.push(replica);
    const config = () =>
      [
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n');
    const sentinels = await Promise.all([0, 1, 2].map(() => startStandalone(['--sentinel'], config)));
    servers.push(...sentinels);
    const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 })).stdout;
    await waitFor(async () => (await cli(replica.port, 'info', 'replication')).includes('master_link_status:up'), 'the replica to sync');
    for (const sentinel of sentinels) {
      await waitFor(async () => {
        const lines = (await cli(sentinel.port, 'sentinel', 'master', name)).split('\n');
        const field = (key: string) => (lines.includes(key) ? Number(lines[lines.indexOf(key) + 1]) : NaN);
        return field('num-slaves') === 1 && field('num-other-sentinels') === 2;
      }, `sentinel :${sentinel.port} to know the replica and the other sentinels`);
    }
    return { name, master, replica, sentinels, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Whether a process of this pid still exists (a SIGKILLed server counts as gone once reaped). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it holds (a readiness wait, never a timing assertion). */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
