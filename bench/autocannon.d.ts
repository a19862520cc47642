// The part of autocannon@9's programmatic API the bench uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    /** Requests per second over all connections (a fixed load), instead of as many as the server answers. */
    overallRate?: number;
    /** Seconds a request may wait for its reply before it counts as a timeout. @default 10 */
    timeout?: number;
  }
  interface Histogram {
    average: number;
    total: number;
    p50: number;
    p99: number;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  /** A run under way: emits `response` (client, statusCode, resBytes, responseTime in ms) per reply. */
  interface Instance extends EventEmitter {
    stop(): void;
  }
  function autocannon(options: Options): Promise<Result>;
  function autocannon(options: Options, done: (error: unknown, result: Result) => void): Instance;
  export = autocannon;
}
