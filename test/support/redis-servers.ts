import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** A loopback port nobody listens on right now (bind, read, release). */
export function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => {
      const { port: bound } = probe.address() as { port: number };
      probe.close(() => resolve(bound));
    });
  });
}

/** Starts redis-server on `port` (no persistence, a temp --dir) and resolves once it accepts connections. */
export async function startRedisServer(port: number, extra: readonly string[] = []): Promise<RedisServer> {
  guardProcess();
  const dir = mkdtempSync(join(tmpdir(), 'nest-limiter-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server: Running = { child, dir };
  running.add(server);
  try {
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`redis-server :${port} not ready after 10 s:\n${log}`)), 10_000);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server :${port} exited (${code}):\n${log}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        log += chunk;
        if (log.includes('Ready to accept connections')) {
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
export async function startStandalone(): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisServer(await freePort());
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

/** Starts a local Redis Cluster of `masters` masters (no replicas) and resolves once every node reports cluster_state:ok. */
export async function startCluster(masters = 3): Promise<RedisServer[]> {
  const ports = await clusterPorts(masters);
  const nodes: RedisServer[] = [];
  try {
    const started = await Promise.allSettled(
      ports.map((port) =>
        startRedisServer(port, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000']),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const port of ports) await waitFor(() => clusterOk(port), `cluster node :${port} to report cluster_state:ok`);
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
}

async function clusterOk(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info'], { timeout: 5_000 });
  return stdout.includes('cluster_state:ok');
}

/** Polls `check` until it holds (a readiness wait, never a timing assertion). */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
