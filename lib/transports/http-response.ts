/** Sets a header on an Express response or a Fastify reply. */
export function setHeaders(response: any, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (typeof response.setHeader === 'function') response.setHeader(name, value);
    else response.header(name, value);
  }
}

/** The Node response under Express's response or Fastify's reply. */
export function rawResponse(response: any): import('node:http').ServerResponse {
  return response.raw ?? response;
}
