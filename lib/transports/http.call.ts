import { HttpException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import type { Decision } from '../core/decision';
import { clientIp } from './client-ip';
import { rawResponse, setHeaders } from './http-response';
import { toSeconds } from './rate-limit-headers';
import { TooManyRequestsException } from './too-many-requests.exception';
import type { LimitedCall } from './limited-call';
import { clientClosed, limiterUnavailable, shuttingDown, SHUTDOWN_RETRY_AFTER_MS } from './refusal';

/** Nest's status for a client that went away (nginx's 499): it is logged, never sent. */
const CLIENT_CLOSED_REQUEST = 499;

/** An HTTP request (Express or Fastify), or the HTTP request under a GraphQL operation. */
export class HttpCall implements LimitedCall {
  readonly transport: 'http' | 'graphql' = 'http';

  constructor(
    readonly request: any,
    private readonly response: any,
  ) {}

  ip(): string | undefined {
    const ip = clientIp(this.request);
    return ip === 'unknown' ? undefined : ip;
  }

  user(): unknown {
    return this.request?.user;
  }

  header(name: string): string | undefined {
    const value = this.request?.headers?.[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  fallbackKey(): string {
    return clientIp(this.request);
  }

  setHeaders(headers: Record<string, string>): void {
    if (this.response) setHeaders(this.response, headers);
  }

  refused(decision: Decision): Error {
    return new TooManyRequestsException(decision);
  }

  unavailable(retryAfterMs: number): Error {
    this.setHeaders({ 'Retry-After': String(toSeconds(retryAfterMs)) });
    return new ServiceUnavailableException({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: limiterUnavailable(retryAfterMs).message });
  }

  shuttingDown(): Error {
    this.setHeaders({ 'Retry-After': String(toSeconds(SHUTDOWN_RETRY_AFTER_MS)), Connection: 'close' });
    return new ServiceUnavailableException({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: shuttingDown().message });
  }

  disconnected(): Error {
    return new HttpException(clientClosed().message, CLIENT_CLOSED_REQUEST);
  }

  onDisconnect(listener: () => void): () => void {
    if (!this.response) return () => undefined;
    const raw = rawResponse(this.response);
    // 'close' also fires after a normal response: only an unfinished one means the client left
    const onClose = (): void => {
      if (!raw.writableFinished) listener();
    };
    raw.once('close', onClose);
    return () => void raw.off('close', onClose);
  }
}
