import { setHeaders } from '../../../lib/transports/http-response';

describe('setHeaders', () => {
  const headers = { 'RateLimit-Policy': '"p";q=2;w=2', RateLimit: '"p";r=1;t=1', 'Retry-After': '1', 'X-Other': 'x' };

  it('gives Express (a Node response) the names as the draft spells them', () => {
    const set: [string, string][] = [];
    setHeaders({ setHeader: (name: string, value: string) => set.push([name, value]) }, headers);
    expect(set).toEqual(Object.entries(headers));
  });

  it("gives Fastify the library's names in lower case, which it then takes as they are, and any other name as it comes", () => {
    const set: [string, string][] = [];
    setHeaders({ header: (name: string, value: string) => set.push([name, value]) }, headers);
    expect(set).toEqual([
      ['ratelimit-policy', '"p";q=2;w=2'],
      ['ratelimit', '"p";r=1;t=1'],
      ['retry-after', '1'],
      ['X-Other', 'x'],
    ]);
  });
});
