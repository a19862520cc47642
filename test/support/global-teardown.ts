import { STARTED, type RedisServer } from './redis-servers';

/** Stops, by pid, every server globalSetup started, and removes their temp directories. */
export default async function globalTeardown(): Promise<void> {
  const servers = ((globalThis as Record<symbol, unknown>)[STARTED] ?? []) as RedisServer[];
  await Promise.all(servers.map((s) => s.stop()));
}
