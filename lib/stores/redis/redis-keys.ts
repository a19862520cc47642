import { hash } from 'node:crypto';

/** The prefix of every key RedisStore writes, when none is given. */
export const DEFAULT_PREFIX = 'limiter:';

/**
 * The Cluster hash tag of a bucket key: 16 base64url characters of its SHA-1 (96 bits).
 * Redis hashes only what lies between the first `{` and the next `}`, so the tag must never
 * contain `}` and must not be empty; a digest is both, whatever the key holds (braces, newlines,
 * 10 kB), and spreads keys evenly over the slots. It depends on the key alone, so every policy
 * of a request keyed by the same client lands in one slot and is decided by one script call.
 */
export function hashTag(key: string): string {
  return hash('sha1', key, 'base64url').slice(0, 16);
}

/**
 * The Redis key of one bucket: `<prefix>{<hashTag(key)>}:<policyId>:<key>`, built here only.
 * After the tag closes, braces no longer matter, so the key is kept as it is (readable in
 * `redis-cli --scan`). Two different (policyId, key) pairs cannot share a name: equal names
 * mean equal tags, hence (but for a 96-bit collision) equal keys, hence equal policy ids.
 * The prefix has no braces (checked with the options), so the first `{` is always the tag's.
 */
export function redisKey(prefix: string, policyId: string, key: string): string {
  return taggedKey(prefix, hashTag(key), policyId, key);
}

/** `redisKey` with the tag already computed (RedisKeyNames caches it): the one place the name's layout is written. */
export function taggedKey(prefix: string, tag: string, policyId: string, key: string): string {
  return `${prefix}{${tag}}:${policyId}:${key}`;
}
