/** fair.lua's keys after the bucket's own: the parts of a fair bucket's state, in KEYS order. */
const FAIR_PARTS = ['state', 'order', 'tickets', 'tenants', 'idle', 'load', 'lines'] as const;

/**
 * The keys fair.lua takes for one bucket: its GCRA key (`redisKey`, shared with gcra.lua) first,
 * then its fair keys, each that key with `~<part>` inserted right after the hash tag:
 * `<prefix>{<tag>}~order:<policyId>:<key>`. Same tag, so one slot on Cluster. Not a suffix: a
 * bucket key ends with the caller's key, so `<bucket key>:order` could be another bucket's key
 * (policy `p:x`, key `order`), whereas every bucket key has `:` right after its tag.
 */
export function fairKeys(bucketKey: string): string[] {
  // The prefix has no braces and the tag is base64url: the first `}` closes the tag.
  const at = bucketKey.indexOf('}') + 1;
  const head = bucketKey.slice(0, at);
  const tail = bucketKey.slice(at);
  return [bucketKey, ...FAIR_PARTS.map((part) => `${head}~${part}${tail}`)];
}
