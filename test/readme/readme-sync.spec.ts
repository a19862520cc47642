import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');

/** The spec as a user writes it: the package's names instead of the repository's paths. */
function asUserWritesIt(source: string): string {
  return source.replaceAll("'../../lib/testing'", "'nest-limiter/testing'").replaceAll("'../../lib'", "'nest-limiter'").replaceAll("'../lib'", "'nest-limiter'");
}

// A code block in README.md right after `<!-- test/readme/<file> -->` (or `<!-- sample/<file> -->`)
// is that file, which CI runs (or a test runs): the README cannot show code that does not work.
describe('README code blocks that are tests', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/<!-- ((?:test\/readme|sample)\/[\w.-]+\.ts) -->\n```ts\n([\s\S]*?)```\n/g)];

  it('exist', () => {
    expect(blocks.map(([, file]) => file)).toEqual(expect.arrayContaining(['test/readme/limits.e2e-spec.ts', 'sample/sign-in.controller.ts']));
  });

  it.each(blocks.map(([, file, code]) => [file, code]))('%s is the spec file, verbatim', (file, code) => {
    expect(code).toBe(asUserWritesIt(readFileSync(join(root, file), 'utf8')));
  });
});
