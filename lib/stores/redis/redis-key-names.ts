import { hashTag, taggedKey } from './redis-keys';

/** How many keys' hash tags a store remembers (twice this at most, in two generations). */
const TAG_CACHE_SIZE = 10_000;

/** Redis Cluster's slot count: a slot is CRC16(tag) mod 16384. */
export const CLUSTER_SLOTS = 16_384;

/**
 * The Redis names of one store's buckets (`redisKey`), with the SHA-1 behind each key's hash tag
 * (and the tag's Cluster slot) computed once per key rather than once per call: a hot key costs a
 * map lookup. The cache is two generations of at most TAG_CACHE_SIZE keys (a key used again moves
 * to the new one, the old one is dropped whole), an LRU in effect without the bookkeeping of one on
 * every hit.
 */
export class RedisKeyNames {
  private recent = new Map<string, KeyName>();
  private older = new Map<string, KeyName>();

  constructor(private readonly prefix: string) {}

  /** The Redis key of (policyId, key): exactly `redisKey(prefix, policyId, key)`. */
  of(policyId: string, key: string): string {
    return taggedKey(this.prefix, this.nameOf(key).tag, policyId, key);
  }

  /** The Cluster slot every bucket of `key` lives in (all its policies share the tag). */
  slotOf(key: string): number {
    return this.nameOf(key).slot;
  }

  private nameOf(key: string): KeyName {
    let name = this.recent.get(key);
    if (name !== undefined) return name;
    name = this.older.get(key);
    if (name === undefined) {
      const tag = hashTag(key);
      name = { tag, slot: crc16(tag) % CLUSTER_SLOTS };
    }
    if (this.recent.size >= TAG_CACHE_SIZE) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(key, name);
    return name;
  }
}

/** A key's hash tag and its Cluster slot, computed once (the batcher and the breakers both ask for the slot). */
interface KeyName {
  readonly tag: string;
  readonly slot: number;
}

/** CRC16-XMODEM (polynomial 0x1021), Redis Cluster's key hash; the tag is base64url, so one byte per character. */
function crc16(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i) << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
