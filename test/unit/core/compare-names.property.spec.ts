import fc from 'fast-check';
import { compareNames } from '../../../lib/core/fair-state';

/** Code point order the plain way: split into code points (lone surrogates stay one each), compare element by element. */
function reference(a: string, b: string): number {
  const ac = Array.from(a);
  const bc = Array.from(b);
  for (let i = 0; i < ac.length && i < bc.length; i++) {
    const d = ac[i].codePointAt(0)! - bc[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ac.length - bc.length;
}

/** Names from a few units that meet at every edge: ASCII, just below and above the surrogates, lone and paired surrogates. */
const unitArb = fc.constantFrom('a', 'b', '-', '\u00e9', '\ud7ff', '\ue000', '\uffff', '\ud83d', '\ude00', '\ude01', '\ud83d\ude00', '\ud83d\ude01', '\udbff\udfff');
const nameArb = fc.array(unitArb, { maxLength: 6 }).map((units) => units.join(''));

describe('compareNames', () => {
  it('orders as code points (UTF-8 byte order), whatever the surrogates: same sign as the plain way', () => {
    fc.assert(
      fc.property(nameArb, nameArb, (a, b) => {
        expect(Math.sign(compareNames(a, b))).toBe(Math.sign(reference(a, b)));
      }),
      { numRuns: 5000 },
    );
  });

  it('puts a character above U+FFFF after U+E000..U+FFFF, where UTF-16 order would not', () => {
    expect(compareNames('\ud83d\ude00', '\uffff')).toBeGreaterThan(0);
    expect('\ud83d\ude00' < '\uffff').toBe(true);
  });
});
