import type { GcraPolicy, Mode } from '../core/policy';
import { toGcraPolicy } from '../core/policy';
import { expectKnownKeys, expectName, expectObject, expectOneOf } from '../errors/expect';
import type { LimitPolicy } from './policy-options.interface';
import { resolvePolicy } from './policy-values';

/**
 * Validates a LimitPolicy given to LimiterService or JobLimiter (`where` names the call) and turns
 * it into the GCRA policy of that call's mode. An unnamed policy is its parameters: callers that
 * pass the same numbers share a bucket.
 */
export function resolveServicePolicy(where: string, raw: LimitPolicy, mode: Mode, maxWaitMs?: number): GcraPolicy {
  const options = expectObject(where, 'policy', raw) as Record<string, unknown>;
  expectKnownKeys(`${where} policy`, options, ['algorithm', 'rate', 'capacity', 'name']);
  const shape = expectOneOf(where, 'policy.algorithm', options.algorithm, ['token-bucket', 'leaky-bucket'] as const);
  const { rate, capacity, name } = options;
  const id = name === undefined ? '' : expectName(`${where} policy`, 'name', name);
  const valid = resolvePolicy(`${where} policy`, shape, { rate, capacity, mode, maxWaitMs }, id);
  return name === undefined ? toGcraPolicy({ ...valid, id: `${shape}:${valid.rate}:${valid.capacity}` }) : valid;
}
