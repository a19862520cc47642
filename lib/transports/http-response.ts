/** Sets headers on an Express response or a Fastify reply (on every limited request: no array made, one method lookup). */
export function setHeaders(response: any, headers: Record<string, string>): void {
  const express = typeof response.setHeader === 'function';
  for (const name in headers) {
    if (express) response.setHeader(name, headers[name]);
    else response.header(name, headers[name]);
  }
}

/** The Node response under Express's response or Fastify's reply. */
export function rawResponse(response: any): import('node:http').ServerResponse {
  return response.raw ?? response;
}
