import { LimiterFunctionError } from '../errors/limiter-function.error';
import { isPromise, type MaybePromise } from './maybe-promise';

/** Calls one of the user's option functions; what it throws or rejects with comes back as a LimiterFunctionError naming where and which option. */
export function callUserFunction<T>(where: string, field: string, fn: (...args: any[]) => MaybePromise<T>, ...args: unknown[]): MaybePromise<T> {
  let value: MaybePromise<T>;
  try {
    value = fn(...args);
  } catch (error) {
    throw new LimiterFunctionError(where, field, error);
  }
  return isPromise(value)
    ? value.then(undefined, (error: unknown) => {
        throw new LimiterFunctionError(where, field, error);
      })
    : value;
}
