import { setHeaders, setRateLimitHeaders } from '../../../lib/transports/http-response';

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

describe('setRateLimitHeaders', () => {
  it('writes the two headers under the same names as setHeaders, on either adapter', () => {
    const viaRecord: [string, string][] = [];
    const direct: [string, string][] = [];
    for (const nodeStyle of [true, false]) {
      const into = (list: [string, string][]) => {
        const push = (name: string, value: string) => list.push([name, value]);
        return nodeStyle ? { setHeader: push } : { header: push };
      };
      setHeaders(into(viaRecord), { 'RateLimit-Policy': '"p";q=2;w=2', RateLimit: '"p";r=1;t=1' });
      setRateLimitHeaders(into(direct), '"p";q=2;w=2', '"p";r=1;t=1', nodeStyle);
    }
    expect(direct).toEqual(viaRecord);
    expect(direct.map(([name]) => name)).toEqual(['RateLimit-Policy', 'RateLimit', 'ratelimit-policy', 'ratelimit']);
  });
});
