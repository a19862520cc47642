import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';

/** The process.env names through which globalSetup tells the workers where Redis runs. */
export const REDIS_ENV = { url: 'LIMITER_TEST_REDIS_URL', cluster: 'LIMITER_TEST_CLUSTER_PORTS' } as const;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start the spec's first line with \`// @needs redis\` (or \`redis-cluster\`) and run it through jest (test/support/global-setup.ts starts the servers)`);
  return value;
}

/** The standalone server's URL: REDIS_URL when given, else the one globalSetup started. */
export function redisUrl(): string {
  return required(REDIS_ENV.url);
}

/** The local Cluster's nodes. */
export function clusterNodes(): { host: string; port: number }[] {
  return required(REDIS_ENV.cluster)
    .split(',')
    .map((port) => ({ host: '127.0.0.1', port: Number(port) }));
}

/** A client of the standalone server (the caller quits it). */
export function connectStandalone(): Redis {
  return new Redis(redisUrl(), { enableAutoPipelining: true });
}

/** A client of the local Cluster (the caller quits it). */
export function connectCluster(): Cluster {
  return new Cluster(clusterNodes(), { enableAutoPipelining: true });
}

/** A key prefix no other test uses: tests never FLUSHDB, so REDIS_URL may point at a shared server. */
export function uniquePrefix(name: string): string {
  return `nest-limiter-test:${name}:${randomUUID().slice(0, 8)}:`;
}
