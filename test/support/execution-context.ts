import { EventEmitter } from 'node:events';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { defer, lastValueFrom, of, type Observable } from 'rxjs';

/** An Express-like response: records the headers set on it, and says 'close' when told the client left. */
export class FakeResponse extends EventEmitter {
  readonly headers: Record<string, string> = {};
  writableFinished = false;

  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }

  /** The client goes away before the response was sent. */
  disconnect(): void {
    this.emit('close');
  }
}

/** An HTTP request as the limiter reads it: the client address, headers, and the user authentication put there. */
export interface FakeRequest {
  ip: string;
  headers: Record<string, string>;
  user?: unknown;
}

/** A fresh request from `ip`. */
export function fakeRequest(ip = '10.0.0.1', headers: Record<string, string> = {}): FakeRequest {
  return { ip, headers };
}

/** The ExecutionContext Nest hands guards and interceptors for an HTTP call of `Controller.method`. */
export function httpContext(controller: Function, method: string, request: FakeRequest = fakeRequest(), response = new FakeResponse()): ExecutionContext {
  const args = [request, response, () => undefined];
  return callContext('http', controller, method, args);
}

/** The ExecutionContext of a call on any transport, with these handler arguments. */
export function callContext(type: string, controller: Function, method: string, args: unknown[]): ExecutionContext {
  const handler = controller.prototype[method] as Function;
  const context = {
    getType: () => type,
    getClass: () => controller,
    getHandler: () => handler,
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
  };
  return context as unknown as ExecutionContext;
}

/** A CallHandler whose handler records when it ran (on `now()`) and returns `result`, once per subscription. */
export function recordingHandler(now: () => number, result: unknown = 'ok'): CallHandler & { readonly starts: number[] } {
  const starts: number[] = [];
  return {
    starts,
    handle: (): Observable<unknown> =>
      defer(() => {
        starts.push(now());
        return of(result);
      }),
  };
}

/** Runs an interceptor's observable to its end. */
export function run(observable: Observable<unknown>): Promise<unknown> {
  return lastValueFrom(observable);
}
