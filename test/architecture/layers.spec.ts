import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cycles, folderOf, importsOf, LAYERS, layerViolations } from './layers';

const LIB = join(__dirname, '../../lib');

describe('the layers of lib/ (ARCHITECTURE.md)', () => {
  const imports = importsOf(LIB);

  it('reads the imports (the rule is not checking an empty graph)', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports).toContainEqual({ from: join('enforcement', 'limiter.guard.ts'), to: join('enforcement', 'call-decider.ts') });
  });

  it('has no import from a lower layer to a higher one, nor between two folders of one layer', () => {
    expect(layerViolations(imports)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(imports)).toEqual([]);
  });

  it('fails on a wrong import: core importing the guard, transports importing metrics, a cycle', () => {
    const wrong = [
      ...imports,
      { from: join('core', 'gcra.ts'), to: join('enforcement', 'limiter.guard.ts') },
      { from: join('transports', 'http.call.ts'), to: join('metrics', 'limiter-metrics.ts') },
    ];
    expect(layerViolations(wrong)).toEqual([
      'lib/core/gcra.ts imports lib/enforcement/limiter.guard.ts: enforcement is above core',
      'lib/transports/http.call.ts imports lib/metrics/limiter-metrics.ts: metrics is beside transports',
    ]);
    expect(cycles([...imports, { from: join('core', 'policy.ts'), to: join('core', 'gcra.ts') }])).toHaveLength(1);
  });

  it('puts every folder of lib/ in a layer, and ARCHITECTURE.md names each one', () => {
    const folders = readdirSync(LIB);
    const architecture = readFileSync(join(LIB, '../ARCHITECTURE.md'), 'utf8');
    for (const folder of folders) {
      expect(LAYERS.flat()).toContain(folderOf(folder));
      expect(architecture).toContain(`lib/${folder}`);
    }
  });
});
