/**
 * Sets headers on an Express response or a Fastify reply (on every limited request: no array
 * made); `nodeStyle` (Express: the Node response's own `setHeader`) may be passed by a caller that
 * knows it, since looking it up on an Express response is not cheap.
 */
export function setHeaders(response: any, headers: Record<string, string>, nodeStyle: boolean = isNodeStyle(response)): void {
  for (const name in headers) {
    if (nodeStyle) response.setHeader(name, headers[name]);
    else response.header(name, headers[name]);
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
