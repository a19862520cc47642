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
  expectKnownKeys(`${where} policy`, options, ['algorithm', 'rate', 'capacity', 'blockMs', 'name']);
  const shape = expectOneOf(where, 'policy.algorithm', options.algorithm, ['token-bucket', 'leaky-bucket'] as const);
  const { rate, capacity, blockMs, name } = options;
  const id = name === undefined ? '' : expectName(`${where} policy`, 'name', name);
  const valid = resolvePolicy(`${where} policy`, shape, { rate, capacity, mode, maxWaitMs, blockMs }, id);
  if (name !== undefined) return valid;
  return toGcraPolicy({ ...valid, id: `${shape}:${valid.rate}:${valid.capacity}${valid.blockMs > 0 ? `:block${valid.blockMs}` : ''}` });
}
