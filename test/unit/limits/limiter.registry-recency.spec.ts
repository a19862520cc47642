import type { LimitPolicy } from '../../../lib';
import { LimiterRegistry } from '../../../lib/limits/limiter.registry';
import { resolveModuleOptions } from '../../../lib/limits/module-options';

/**
 * LimiterRegistry.servicePolicy says "A policy used all along must not be forgotten by reset(key)
 * because 1,000 others came after it", but only re-adds an id that has already fallen out: one
 * used at every call is still dropped once 1,000 new ones arrive after its first use.
 */
describe('LimiterRegistry service policy ids: the latest used, not the latest first seen', () => {
  it('keeps a policy used again among the latest 1,000, however many others came between', () => {
    const registry = new LimiterRegistry(resolveModuleOptions({}));
    const BURSTY: LimitPolicy = { algorithm: 'token-bucket', rate: 10, capacity: 20 };
    const steady: LimitPolicy = { ...BURSTY, name: 'steady' };
    registry.servicePolicy('x', steady, 'reject');
    for (let i = 0; i < 999; i++) registry.servicePolicy('x', { ...BURSTY, name: `tenant-${i}` }, 'reject');
    registry.servicePolicy('x', steady, 'reject');
    registry.servicePolicy('x', { ...BURSTY, name: 'one-more' }, 'reject');
    expect(registry.bucketIds()).toContain('steady');
    expect(registry.bucketIds()).not.toContain('tenant-0');
  });
});
