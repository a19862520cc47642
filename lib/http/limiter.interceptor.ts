import { HttpException, HttpStatus, Injectable, ServiceUnavailableException, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, switchMap, type Observable } from 'rxjs';
import { LimiterEngine } from '../limiter-engine';
import { LimiterLifecycle } from '../limiter-lifecycle';
import { SHUTTING_DOWN } from '../limiter.messages';
import { rawResponse, setHeaders } from './http-response';
import { verdictOf } from './limiter.guard';

const HELD = Symbol('nest-limiter:held');

/** Seconds a client cut off by a shutdown is told to wait: another instance is usually up by then. */
const SHUTDOWN_RETRY_AFTER_S = 1;

/**
 * Queue-and-wait: holds a request the guard admitted with a delay until its slot, then runs the
 * handler. Registered globally by LimiterModule (adding it with `@UseInterceptors` too is
 * harmless). A client that disconnects while waiting, and application shutdown, end the wait;
 * the slot is given back where that is safe (see core/gcra `cancel`).
 */
@Injectable()
export class LimiterInterceptor implements NestInterceptor {
  constructor(
    private readonly engine: LimiterEngine,
    private readonly lifecycle: LimiterLifecycle,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest();
    const verdict = verdictOf(request);
    if (!verdict || verdict.decision.delayMs <= 0 || request[HELD]) return next.handle();
    request[HELD] = true;
    return from(this.hold(verdict, http.getResponse())).pipe(switchMap(() => next.handle()));
  }

  private async hold(verdict: NonNullable<ReturnType<typeof verdictOf>>, response: any): Promise<void> {
    const raw = rawResponse(response);
    const disconnect = new AbortController();
    const onClose = (): void => {
      if (!raw.writableFinished) disconnect.abort(new Error('client disconnected'));
    };
    raw.once('close', onClose);
    try {
      await this.engine.hold(verdict, AbortSignal.any([this.lifecycle.signal, disconnect.signal]));
    } catch {
      if (!this.lifecycle.signal.aborted) throw new HttpException('Client Closed Request', 499);
      setHeaders(response, { 'Retry-After': String(SHUTDOWN_RETRY_AFTER_S), Connection: 'close' });
      throw new ServiceUnavailableException({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: SHUTTING_DOWN });
    } finally {
      raw.off('close', onClose);
    }
  }
}
