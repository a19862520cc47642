import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from '../../lib';

describe('public API', () => {
  it('exports exactly these runtime values (a change here is a deliberate API change)', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'FakeClock',
        'LeakyBucket',
        'LimiterConfigError',
        'LimiterError',
        'LimiterEvents',
        'LimiterStoreError',
        'LimiterFunctionError',
        'ShutdownSignal',
        'LimiterGuard',
        'LimiterInterceptor',
        'LimiterModule',
        'LimiterService',
        'LimiterStore',
        'MemoryStore',
        'RedisStore',
        'SkipLimit',
        'SystemClock',
        'TokenBucket',
        'TooManyRequestsException',
        'clientIp',
      ].sort(),
    );
  });

  it('documents every exported symbol with a doc comment where it is declared', () => {
    const index = readFileSync(join(__dirname, '../../lib/index.ts'), 'utf8');
    const undocumented: string[] = [];
    for (const [, names, from] of index.matchAll(/export (?:type )?\{([^}]+)\} from '([^']+)'/g)) {
      const source = readFileSync(join(__dirname, '../../lib', `${from}.ts`), 'utf8');
      for (const raw of names.split(',')) {
        const name = raw.replace(/^\s*type\s+/, '').trim();
        const declared = new RegExp(`\\*/\\s*(?:@\\w+\\([^)]*\\)\\s*)*export (?:abstract )?(?:class|interface|type|function|const) ${name}\\b`);
        if (!declared.test(source)) undocumented.push(`${name} (${from})`);
      }
    }
    expect(undocumented).toEqual([]);
  });
});
