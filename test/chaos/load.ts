import http from 'node:http';

/** A load that keeps `inFlight` requests open against `url` until stopped, counting statuses. */
export interface Load {
  readonly statuses: Map<number, number>;
  readonly latencies: number[];
  /** Resolves once `count` responses have come back in all. */
  responses(count: number): Promise<void>;
  stop(): Promise<void>;
}

/** Connections a load opens at once, and how long it waits before the next ones, in ms. */
const RAMP_BATCH = 100;
const RAMP_MS = 20;

/**
 * Starts the load. Each response (or error) immediately sends the next request. Connections open
 * RAMP_BATCH at a time: a thousand at once overflow the server's listen backlog (511), and the
 * connections the kernel drops come back only after SYN retries of 1, 3, 7 s, starving whole routes.
 */
export function startLoad(url: string, inFlight: number): Load {
  // FIFO reuse keeps every socket busy: a LIFO pool leaves some idle past the server's keep-alive
  // timeout (5 s), and reusing one as the server closes it is a client-side ECONNRESET.
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight, scheduling: 'fifo' });
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let stopped = false;
  let total = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const record = (status: number, startedAt: number): void => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    latencies.push(performance.now() - startedAt);
    total++;
    for (const w of waiters.filter((w) => total >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const startedAt = performance.now();
      const req = http.get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          record(res.statusCode ?? 0, startedAt);
          resolve();
        });
      });
      req.on('error', () => {
        record(-1, startedAt);
        resolve();
      });
    });
  const loops = Array.from({ length: inFlight }, async (_, i) => {
    await new Promise((resolve) => setTimeout(resolve, Math.floor(i / RAMP_BATCH) * RAMP_MS));
    while (!stopped) await one();
  });
  return {
    statuses,
    latencies,
    responses: (count) => (total >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}
