import { clientIp, reportedClientIp, groupAddress } from '../../../lib/transports/client-ip';

describe('client IP keys', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('groups %s as %s', (ip, key) => {
    expect(groupAddress(ip)).toBe(key);
  });

  it('puts every address of one /64 in one bucket, and the next /64 in another', () => {
    expect(groupAddress('2001:db8:a:b:1::1')).toBe(groupAddress('2001:db8:a:b:ffff::2'));
    expect(groupAddress('2001:db8:a:c::1')).not.toBe(groupAddress('2001:db8:a:b::1'));
  });

  it.each([
    ['clientIp', clientIp],
    ['reportedClientIp', reportedClientIp],
  ])('%s reads Express req.ip, Fastify request.ip, or the socket address', (_, read) => {
    expect(read({ ip: '198.51.100.1' })).toBe('198.51.100.1');
    expect(read({ ip: '198.51.100.1', socket: { remoteAddress: '198.51.100.9' } })).toBe('198.51.100.1');
    expect(read({ socket: { remoteAddress: '::ffff:198.51.100.2' } })).toBe('198.51.100.2');
    expect(read({ raw: { socket: { remoteAddress: '198.51.100.3' } } })).toBe('198.51.100.3');
    expect(read({ ip: '' })).toBe('unknown');
    expect(read({})).toBe('unknown');
  });

  it("reads the socket address of an Express request whose app trusts no proxy, and req.ip when it trusts one", () => {
    const socket = { remoteAddress: '::ffff:198.51.100.4' };
    // An Express req.ip never differs from the socket address while 'trust proxy' is false; this one would, to tell the two reads apart.
    expect(clientIp({ ip: '198.51.100.5', socket, app: { settings: { 'trust proxy': false } } })).toBe('198.51.100.4');
    expect(clientIp({ ip: '198.51.100.5', socket, app: { settings: { 'trust proxy': true } } })).toBe('198.51.100.5');
    expect(clientIp({ ip: '198.51.100.5', socket, app: { settings: { 'trust proxy': () => true } } })).toBe('198.51.100.5');
  });
});
