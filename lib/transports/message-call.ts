import type { Decision } from '../core/decision';
import type { LimitedCall, Transport } from './limited-call';
import { clientClosed, limiterUnavailable, shuttingDown, tooManyRequests, type Refusal } from './refusal';

/**
 * A call carried by messages rather than HTTP responses (WebSocket, microservice): no headers,
 * and every refusal is one exception type of the transport, built by `error`.
 */
export abstract class MessageCall implements Pick<LimitedCall, 'setHeaders' | 'refused' | 'unavailable' | 'shuttingDown' | 'disconnected'> {
  abstract readonly transport: Transport;

  /** The transport's exception for this refusal. */
  protected abstract error(refusal: Refusal): Error;

  setHeaders(): void {}

  refused(decision: Decision): Error {
    return this.error(tooManyRequests(decision));
  }

  unavailable(retryAfterMs: number): Error {
    return this.error(limiterUnavailable(retryAfterMs));
  }

  shuttingDown(): Error {
    return this.error(shuttingDown());
  }

  disconnected(): Error {
    return this.error(clientClosed());
  }
}
