import type { Shape } from '../../core/policy';
import type { BucketOptions } from '../policy-options.interface';

/** What one `@TokenBucket` / `@LeakyBucket` leaves on a class or method: validated at bootstrap, not here. */
export interface LimitMetadata {
  readonly shape: Shape;
  readonly decorator: '@TokenBucket' | '@LeakyBucket';
  readonly options: BucketOptions;
}

const LIMITS = Symbol('nest-limiter:limits');
const SKIP = Symbol('nest-limiter:skip');

/**
 * A decorator that adds one policy to a method or class. Several stack (all must pass); the list
 * is kept in the order they are written, though decorators run bottom-up.
 */
export function addLimit(limit: LimitMetadata): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const holder = descriptor ? descriptor.value : target;
    const existing: LimitMetadata[] = Reflect.getOwnMetadata(LIMITS, holder) ?? [];
    Reflect.defineMetadata(LIMITS, [limit, ...existing], holder);
  };
}

/** Marks a method or class as not limited. */
export function markSkipped(): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    Reflect.defineMetadata(SKIP, true, descriptor ? descriptor.value : target);
  };
}

/** The limits on this method or class (a subclass controller inherits its parent's). */
export function readLimits(target: object): readonly LimitMetadata[] | undefined {
  return Reflect.getMetadata(LIMITS, target);
}

/** Whether `@SkipLimit()` is on this method or class. */
export function isSkipped(target: object): boolean {
  return Reflect.getMetadata(SKIP, target) === true;
}
