import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { LimiterError } from '../errors/limiter.error';

/** Why a wait ended early: the application is shutting down. */
export class ShutdownSignal extends LimiterError {
  readonly code = 'LIMITER_SHUTTING_DOWN';

  constructor() {
    super('The application is shutting down.');
  }
}

/**
 * One AbortSignal that fires when the application starts to shut down, before the HTTP server
 * stops accepting: every held request is released (503) so that `app.close()` does not wait
 * out the longest queue.
 */
@Injectable()
export class LimiterLifecycle implements BeforeApplicationShutdown {
  private readonly controller = new AbortController();

  /** Aborts on shutdown. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  beforeApplicationShutdown(): void {
    this.controller.abort(new ShutdownSignal());
  }
}
