/**
 * The client address a request came from, as a bucket key: Express's `req.ip` and Fastify's
 * `request.ip` (both honour the adapter's trust-proxy setting), else the socket's address.
 * IPv6 clients are grouped by /64, the block one subscriber usually holds, so rotating through
 * it buys no extra quota; IPv4-mapped IPv6 is shown as IPv4.
 */
export function clientIp(request: any): string {
  const ip: unknown = untrustedExpress(request) ? request.socket?.remoteAddress : (request?.ip ?? request?.socket?.remoteAddress ?? request?.raw?.socket?.remoteAddress);
  return typeof ip === 'string' && ip.length > 0 ? groupAddress(ip) : 'unknown';
}

/**
 * An Express request whose app trusts no proxy (Express's default): its `req.ip` is then the
 * socket's address, read here without the proxy-addr walk the getter runs (a few µs a request).
 */
function untrustedExpress(request: any): boolean {
  return request?.app?.settings?.['trust proxy'] === false;
}

/** `2001:db8:1:2:3:4:5:6` → `2001:db8:1:2::/64`; `::ffff:10.0.0.1` → `10.0.0.1`; IPv4 as it is. */
export function groupAddress(ip: string): string {
  if (!ip.includes(':')) return ip;
  const address = ip.split('%')[0].toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1];
  const groups = expandIpv6(address);
  if (!groups) return address;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
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
