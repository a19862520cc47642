import type { ExecutionContext } from '@nestjs/common';
import type { GcraPolicy, Shape } from '../core/policy';
import { andThen, type MaybePromise } from './maybe-promise';
import { resolvePolicy } from './policy-values';
import { callUserFunction } from './user-function';

/** A policy worked out per call, from `rate` and/or `capacity` functions of the request. */
export type PolicyOfCall = (request: any, context: ExecutionContext) => MaybePromise<GcraPolicy>;

/** Variants of one dynamic policy kept ready (plans and tiers are few); past this the cache starts over. */
const MAX_VARIANTS = 1000;

/**
 * A route policy whose `rate` or `capacity` is a function of the call: what does not depend on the
 * call is checked now (a probe policy with the dynamic parts set to 1); each call's values are
 * validated when first seen, and the policies they make are kept, at most MAX_VARIANTS.
 */
export function dynamicPolicy(where: string, shape: Shape, options: Record<string, unknown>, id: string): PolicyOfCall {
  const { rate, capacity } = options;
  resolvePolicy(where, shape, { ...options, rate: typeof rate === 'function' ? 1 : rate, capacity: typeof capacity === 'function' ? 1 : capacity }, id);
  const variants = new Map<string, GcraPolicy>();
  const policyOf = (r: unknown, c: unknown): GcraPolicy => {
    const variant = typeof r === 'number' && typeof c === 'number' ? `${r}|${c}` : undefined;
    const cached = variant === undefined ? undefined : variants.get(variant);
    if (cached) return cached;
    const policy = resolvePolicy(where, shape, { ...options, rate: r, capacity: c }, id);
    if (variants.size >= MAX_VARIANTS) variants.clear();
    variants.set(variant!, policy);
    return policy;
  };
  const valueOf = (field: string, value: unknown, request: unknown, context: ExecutionContext): MaybePromise<unknown> =>
    typeof value === 'function' ? callUserFunction(where, field, value as (...args: unknown[]) => unknown, request, context) : value;
  return (request, context) =>
    andThen(valueOf('rate', rate, request, context), (r) => andThen(valueOf('capacity', capacity, request, context), (c) => policyOf(r, c)));
}
