import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@jest/types';
import { STARTED, startCluster, startStandalone, type RedisServer } from './redis-servers';
import { REDIS_ENV } from './redis-env';

/**
 * What the selected spec files need, as each declares it in a first-line comment:
 * `// @needs redis` (the shared redis-server) or `// @needs redis-cluster` (the shared 3-master
 * Cluster). Specs that start servers of their own (chaos, failover) declare nothing. Other runs
 * (say `jest test/unit`) start nothing, so they do not pay the Cluster's ~2 s.
 */
function needs(globalConfig: Config.GlobalConfig): { standalone: boolean; cluster: boolean } {
  const root = join(globalConfig.rootDir, 'test');
  const specs = (readdirSync(root, { recursive: true }) as string[]).map((file) => join(root, file)).filter((file) => /\.(spec|e2e-spec)\.ts$/.test(file));
  const patterns = globalConfig.testPathPatterns;
  const selected = patterns.isSet() ? specs.filter((file) => patterns.toExecutor({ rootDir: globalConfig.rootDir }).isMatch(file)) : specs;
  const declared = selected.map((file) => /^\/\/ @needs (redis-cluster|redis)\b/.exec(readFileSync(file, 'utf8'))?.[1]);
  return { standalone: declared.includes('redis'), cluster: declared.includes('redis-cluster') };
}

/**
 * Starts one standalone redis-server (unless REDIS_URL points at one) and a 3-master Redis
 * Cluster, in parallel, and passes their addresses to the test workers through process.env.
 * Jest skips globalTeardown when globalSetup throws, so a failure stops what was started here.
 */
export default async function globalSetup(globalConfig: Config.GlobalConfig): Promise<void> {
  const need = needs(globalConfig);
  const standalone = need.standalone && !process.env.REDIS_URL ? startStandalone() : Promise.resolve(undefined);
  const [single, cluster] = await Promise.allSettled([standalone, need.cluster ? startCluster(3) : Promise.resolve([])]);
  const servers: RedisServer[] = [];
  if (single.status === 'fulfilled' && single.value) servers.push(single.value);
  if (cluster.status === 'fulfilled') servers.push(...cluster.value);
  (globalThis as Record<symbol, unknown>)[STARTED] = servers;
  if (single.status === 'rejected' || cluster.status === 'rejected') {
    await Promise.all(servers.map((s) => s.stop()));
    throw single.status === 'rejected' ? single.reason : (cluster as PromiseRejectedResult).reason;
  }
  const url = process.env.REDIS_URL ?? (single.value && `redis://127.0.0.1:${single.value.port}`);
  if (url) process.env[REDIS_ENV.url] = url;
  if (cluster.value.length) process.env[REDIS_ENV.cluster] = cluster.value.map((s) => s.port).join(',');
}
