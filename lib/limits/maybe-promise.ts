/** A value, or a promise of it: what a user's function (key, rate, cost) may return. */
export type MaybePromise<T> = T | Promise<T>;

/** Whether a user's function returned a promise (any thenable) rather than a value. */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Applies `next` to a value now, or once its promise settles: values that are known at once stay
 * synchronous, so a route whose functions return plain values is decided without a microtask.
 */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? value.then(next) : next(value);
}
