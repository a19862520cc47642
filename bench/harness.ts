import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The median of the samples (the mean of the two middle ones for an even count). */
export function median(samples: readonly number[]): number {
  const xs = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** A free TCP port on the loopback (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Pins every thread of a process to `cpus` (taskset's list syntax) where `taskset` is installed; says whether it did. */
export function pin(pid: number, cpus: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' }).status === 0;
}

/** Runs `node [execArgv] script [args]` and resolves with the one message it sends over IPC; bounded by `timeoutMs`. */
export function runChild<T>(script: string, args: string[], { execArgv = [] as string[], timeoutMs = 120_000 } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = fork(join(__dirname, script), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: T | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (message) => (result = message as T));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined && code === 0) resolve(result);
      else reject(new Error(`${script} ${args.join(' ')} exited with ${code ?? signal} and ${result === undefined ? 'no' : 'a'} result`));
    });
  });
}

/** Sends a child's result to its parent and exits once it is delivered. */
export function reply(result: unknown): void {
  process.send!(result, () => process.exit(0));
}

/** A forked worker that answers each message it is sent with one message (see `startWorker`). */
export interface Worker {
  ask<T>(message: object): Promise<T>;
  /** Asks it to leave (`{}`), and waits until it has. */
  stop(): Promise<void>;
}

/** Forks `script` and resolves once it says `{ ready: true }` (after its warm-up), within `timeoutMs`; with `cpus`, pinned to them as it is forked. */
export async function startWorker(script: string, args: string[], { timeoutMs = 120_000, cpus = undefined as string | undefined } = {}): Promise<Worker> {
  const child = fork(join(__dirname, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (cpus !== undefined) pin(child.pid!, cpus);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} ${args.join(' ')} did not answer within ${timeoutMs} ms`)), timeoutMs);
      const onExit = (code: number | null): void => (clearTimeout(timer), reject(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
      child.once('exit', onExit);
      child.once('message', (m) => (clearTimeout(timer), child.off('exit', onExit), resolve(m as T)));
    });
  await next<{ ready: true }>();
  return {
    ask: <T>(message: object) => {
      const answer = next<T>();
      child.send(message);
      return answer;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.send({});
      await exited;
    },
  };
}

/** A forked long-lived server that tells its port over IPC; stopped with `stop()`. */
export interface Served {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export async function serve(script: string, args: string[], { execArgv = [] as string[], timeoutMs = 30_000 } = {}): Promise<Served> {
  const child = fork(join(__dirname, script), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args.join(' ')} did not listen within ${timeoutMs} ms`)), timeoutMs);
    child.once('message', (m: { port: number }) => (clearTimeout(timer), resolve(m.port)));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${script} ${args.join(' ')} exited with ${code} before listening`))));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return { port, child, stop };
}

/** A redis-server of our own: free loopback port, temporary --dir, no persistence; stopped by its pid. */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  readonly version: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nest-limiter-bench-redis-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const { Redis } = await import('ioredis');
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Refused connections are expected until the server listens: the loop below retries them.
  probe.on('error', () => undefined);
  let version = '';
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      const info = await probe.info('server');
      version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
      break;
    } catch (error) {
      probe.disconnect();
      if (i >= 100 || server.exitCode !== null) throw new Error(`redis-server on port ${port} did not start: ${error}`);
      await sleep(50);
    }
  }
  probe.disconnect();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    version,
    pid: server.pid!,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Key i of a key set: strings of the length a real store holds (a client IP in 10.0.0.0/8). */
export const ip = (i: number): string => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
