/**
 * The names the library's headers are given to Fastify by. Fastify lowercases every name it is
 * given, which, on every request, copies a name that has a capital letter and looks the copy up in
 * V8's table of property names; a name in lower case already is taken as it is. (Express sends a
 * name as it is given, so it gets the names as the draft spells them.)
 */
const FASTIFY_NAMES: Readonly<Record<string, string>> = { 'RateLimit-Policy': 'ratelimit-policy', RateLimit: 'ratelimit', 'Retry-After': 'retry-after', Connection: 'connection' };

/**
 * Sets headers on an Express response or a Fastify reply (on every limited request: no array
 * made); `nodeStyle` (Express: the Node response's own `setHeader`) may be passed by a caller that
 * knows it, since looking it up on an Express response is not cheap.
 */
export function setHeaders(response: any, headers: Record<string, string>, nodeStyle: boolean = isNodeStyle(response)): void {
  for (const name in headers) {
    if (nodeStyle) response.setHeader(name, headers[name]);
    else response.header(FASTIFY_NAMES[name] ?? name, headers[name]);
  }
}

/** Sets the RateLimit-Policy and RateLimit headers of an admitted request: `setHeaders` for the guard's short path, without a record of them. */
export function setRateLimitHeaders(response: any, policy: string, rateLimit: string, nodeStyle: boolean): void {
  if (nodeStyle) {
    response.setHeader('RateLimit-Policy', policy);
    response.setHeader('RateLimit', rateLimit);
  } else {
    response.header(FASTIFY_NAMES['RateLimit-Policy'], policy);
    response.header(FASTIFY_NAMES.RateLimit, rateLimit);
  }
}

/** The Node response under Express's response or Fastify's reply. */
export function rawResponse(response: any): import('node:http').ServerResponse {
  return response.raw ?? response;
}

/** Whether the response sets headers the Node way (Express, a bare Node response), not Fastify's. */
export function isNodeStyle(response: any): boolean {
  return typeof response.setHeader === 'function';
}
