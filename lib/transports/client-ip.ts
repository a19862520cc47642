/**
 * The client address a request came from, as a bucket key: Express's `req.ip` and Fastify's
 * `request.ip` (both honour the adapter's trust-proxy setting), else the socket's address.
 * IPv6 clients are grouped by /64, the block one subscriber usually holds, so rotating through
 * it buys no extra quota; IPv4-mapped IPv6 is shown as IPv4.
 */
export function clientIp(request: any): string {
  return untrustedExpress(request) ? keyOf(request.socket?.remoteAddress) : reportedClientIp(request);
}

/**
 * The address the request reports (`ip`, else its socket's), as a key: `clientIp` without looking
 * for Express's settings first, for a request known not to be Express's (the guard learns the
 * adapter once), which would miss them on every call.
 */
export function reportedClientIp(request: any): string {
  return keyOf(request?.ip ?? request?.socket?.remoteAddress ?? request?.raw?.socket?.remoteAddress);
}

function keyOf(ip: unknown): string {
  return typeof ip === 'string' && ip.length > 0 ? groupAddress(ip) : 'unknown';
}

/**
 * An Express request whose app trusts no proxy (Express's default): its `req.ip` is then the
 * socket's address, read here without the proxy-addr walk the getter runs (a few µs a request).
 */
function untrustedExpress(request: any): boolean {
  return request?.app?.settings?.['trust proxy'] === false;
}

const MAPPED_PREFIX = '::ffff:';
const DOT = '.'.charCodeAt(0);
const ZERO = '0'.charCodeAt(0);
const NINE = '9'.charCodeAt(0);

/** `2001:db8:1:2:3:4:5:6` → `2001:db8:1:2::/64`; `::ffff:10.0.0.1` → `10.0.0.1`; IPv4 as it is. */
export function groupAddress(ip: string): string {
  // Small enough for V8 to inline into the guard's short path, whose budget the IPv6 part would use up.
  return ip.includes(':') ? groupIpv6(ip) : ip;
}

function groupIpv6(ip: string): string {
  // A socket's address comes in lower case without a zone: then it is read as it is, not copied.
  const address = ip.includes('%') || ip !== ip.toLowerCase() ? ip.split('%')[0].toLowerCase() : ip;
  const mapped = mappedIpv4(address);
  if (mapped !== undefined) return mapped;
  const groups = expandIpv6(address);
  if (!groups) return address;
  return `${shortGroup(groups[0])}:${shortGroup(groups[1])}:${shortGroup(groups[2])}:${shortGroup(groups[3])}::/64`;
}

/** A group without its leading zeros, one kept for zero: `0db8` → `db8`, `0000` → `0`. */
function shortGroup(group: string): string {
  let i = 0;
  while (i < group.length - 1 && group.charCodeAt(i) === ZERO) i++;
  return i === 0 ? group : group.slice(i);
}

/**
 * The IPv4 address inside `::ffff:a.b.c.d` (digits and three dots after the prefix), else
 * undefined. A server listening on `::` (Node's default) sees every IPv4 client so, on every
 * request: read with one pass over the characters, no regex and no match array.
 */
function mappedIpv4(address: string): string | undefined {
  if (!address.startsWith(MAPPED_PREFIX)) return undefined;
  let dots = 0;
  let digits = 0;
  for (let i = MAPPED_PREFIX.length; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === DOT && digits > 0 && dots < 3) {
      dots++;
      digits = 0;
    } else if (c >= ZERO && c <= NINE) digits++;
    else return undefined;
  }
  return dots === 3 && digits > 0 ? address.slice(MAPPED_PREFIX.length) : undefined;
}

function expandIpv6(address: string): string[] | undefined {
  const [head, tail, extra] = address.split('::');
  if (extra !== undefined) return undefined;
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  if (tail === undefined) return left.length === 8 ? left : undefined;
  const missing = 8 - left.length - right.length;
  if (missing < 1) return undefined;
  return [...left, ...Array<string>(missing).fill('0'), ...right];
}
