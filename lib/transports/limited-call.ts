import type { Decision } from '../core/decision';

/** The transports a limited handler can be reached through. */
export type Transport = 'http' | 'graphql' | 'ws' | 'rpc';

/**
 * One call of a limited handler, seen the same way whatever carried it: what the key resolvers
 * read, where the verdict is kept, how headers are set and how a refusal reaches the client.
 * Each transport builds its own (http.call.ts, graphql.call.ts, ws.call.ts, rpc.call.ts).
 */
export interface LimitedCall {
  readonly transport: Transport;
  /**
   * What key resolvers and dynamic options receive: the HTTP request (under GraphQL too, so one
   * resolver serves both), the socket of a WebSocket message, the data of a microservice message.
   */
  readonly request: unknown;
  /** The caller's address as a bucket key (IPv6 by /64), when the transport exposes one. */
  ip(): string | undefined;
  /** The signed-in user, where authentication put one (`request.user`, socket.io `client.data.user`). */
  user(): unknown;
  /** A request header, where the transport has them. */
  header(name: string): string | undefined;
  /** The key when no resolver gives one: the caller's address, else one bucket for all callers. */
  fallbackKey(): string;
  /** Sets response headers; a transport without them ignores this. */
  setHeaders(headers: Record<string, string>): void;
  /** The error a refused call ends with, in the transport's own form. */
  refused(decision: Decision): Error;
  /** The error when the store is down and the failure policy is `closed`. */
  unavailable(retryAfterMs: number): Error;
  /** The error for a call cut off by application shutdown while it waited. */
  shuttingDown(): Error;
  /** The error for a call whose client went away while it waited. */
  disconnected(): Error;
  /** Calls `listener` if the client goes away; returns the function that stops listening. */
  onDisconnect(listener: () => void): () => void;
}
