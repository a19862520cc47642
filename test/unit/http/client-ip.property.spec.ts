import fc from 'fast-check';
import { groupAddress } from '../../../lib/transports/client-ip';

const octet = fc.integer({ min: 0, max: 255 }).map(String);
const ipv4 = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.'));
/** One IPv6 group as a client may write it: 1 to 4 hex digits, leading zeros and upper case allowed. */
const group = fc.integer({ min: 0, max: 0xffff }).chain((n) =>
  fc.tuple(fc.integer({ min: n.toString(16).length, max: 4 }), fc.boolean()).map(([width, upper]) => {
    const text = n.toString(16).padStart(width, '0');
    return upper ? text.toUpperCase() : text;
  }),
);
/** What may follow `::ffff:` in an address a proxy forwards: runs of digits (some empty) between dots, maybe with a character that is neither; or anything made of those characters. */
const tail = fc.oneof(
  fc
    .tuple(fc.array(fc.stringMatching(/^\d{0,3}$/), { minLength: 1, maxLength: 6 }), fc.constantFrom('', '', '', ':', 'a', '%', ' '), fc.nat())
    .map(([runs, odd, at]) => {
      const text = runs.join('.');
      const i = at % (text.length + 1);
      return text.slice(0, i) + odd + text.slice(i);
    }),
  fc.string({ unit: fc.constantFrom('0', '1', '9', '.', ':', 'a', '%', ' '), maxLength: 16 }),
);

describe('client IP keys (properties)', () => {
  it('reads an IPv4-mapped address as its IPv4 address, whatever the case of the prefix and with a zone', () => {
    fc.assert(
      fc.property(ipv4, fc.constantFrom('::ffff:', '::FFFF:', '::Ffff:'), fc.constantFrom('', '%eth0'), (v4, prefix, zone) => {
        expect(groupAddress(prefix + v4 + zone)).toBe(v4);
      }),
    );
  });

  it('takes what follows ::ffff: as an IPv4 address exactly when it is four dotted runs of digits', () => {
    fc.assert(
      fc.property(tail, (rest) => {
        const mapped = groupAddress(`::ffff:${rest}`) === rest;
        expect(mapped).toBe(/^\d+\.\d+\.\d+\.\d+$/.test(rest));
      }),
    );
  });

  it('keys a full IPv6 address by its first four groups, each as a hex number, whatever its zeros, case and zone', () => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.constantFrom('', '%eth0'), (groups, zone) => {
        const first4 = groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16));
        expect(groupAddress(groups.join(':') + zone)).toBe(`${first4.join(':')}::/64`);
      }),
    );
  });
});
