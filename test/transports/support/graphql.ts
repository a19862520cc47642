import http from 'node:http';
import { Query, Resolver } from '@nestjs/graphql';
import { TokenBucket } from '../../../lib';

/**
 * Code-first resolver (the schema is built in memory, `autoSchemaFile: true`): one limited field,
 * rate 1/s with a burst of 3, and one field without a decorator.
 */
@Resolver()
export class LimitedResolver {
  @Query(() => String)
  @TokenBucket({ rate: 1, capacity: 3 })
  limited(): string {
    return 'ok';
  }

  @Query(() => String)
  free(): string {
    return 'free';
  }
}

export interface GraphqlError {
  readonly message: string;
  readonly path?: readonly string[];
  readonly extensions?: Record<string, unknown>;
}

export interface GraphqlReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: { data?: Record<string, unknown> | null; errors?: GraphqlError[] };
}

/** POSTs one GraphQL query as JSON, on a connection of its own (no keep-alive pool left open). */
export function postQuery(url: string, query: string): Promise<GraphqlReply> {
  const payload = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) });
          } catch {
            reject(new Error(`POST ${url}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 500)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A booted GraphQL app: its endpoint URL, its clock, and how to stop it. */
export interface GraphqlHarness {
  readonly url: string;
  readonly clock: import('../../../lib').FakeClock;
  close(): Promise<void>;
}

/**
 * The GraphQL contract, the same for every driver: `boot` starts an app serving LimitedResolver
 * with `LimiterModule.forRoot({ clock })` on a fresh FakeClock.
 */
export function describeGraphqlLimits(driver: string, boot: () => Promise<GraphqlHarness>): void {
  describe(`GraphQL over HTTP (${driver})`, () => {
    let harness: GraphqlHarness;
    const query = (q: string): Promise<GraphqlReply> => postQuery(harness.url, q);

    beforeEach(async () => {
      harness = await boot();
    });

    afterEach(() => harness?.close());

    /** Asserts the reply answered `field` with `value` and no error. */
    function expectData(reply: GraphqlReply, field: string, value: string): void {
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { data: { [field]: value } } });
    }

    /** Asserts the reply is the limiter's refusal of the `limited` field. */
    function expectRefused(reply: GraphqlReply): void {
      // One comparison first, so a failure prints everything the client received.
      expect({ status: reply.status, retryAfter: reply.headers['retry-after'], errors: reply.body.errors }).toEqual({
        status: 200,
        retryAfter: '1',
        errors: [
          expect.objectContaining({
            message: 'Too Many Requests',
            path: ['limited'],
            extensions: expect.objectContaining({ code: 'TOO_MANY_REQUESTS', retryAfterMs: expect.any(Number) }),
          }),
        ],
      });
      const retryAfterMs = reply.body.errors![0].extensions!.retryAfterMs as number;
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(1000);
    }

    describe('harness (no limit involved)', () => {
      it('answers a query to an undecorated field over a real HTTP POST', async () => {
        expectData(await query('{ free }'), 'free', 'free');
      });

      it('reports a bad query as a GraphQL error, not a limit', async () => {
        const reply = await query('{ nope }');
        expect(reply.body.errors?.[0]?.message).toMatch(/nope/);
        expect(reply.body.errors?.[0]?.extensions?.code).not.toBe('TOO_MANY_REQUESTS');
      });
    });

    it('admits the burst of 3, refuses the 4th with TOO_MANY_REQUESTS, retryAfterMs and Retry-After', async () => {
      for (let i = 0; i < 3; i++) {
        const reply = await query('{ limited }');
        expectData(reply, 'limited', 'ok');
        expect(reply.headers['retry-after']).toBeUndefined();
      }
      expectRefused(await query('{ limited }'));
    });

    it('admits one more once a token has dripped back in (clock.advance(1000)), and only one', async () => {
      for (let i = 0; i < 3; i++) expectData(await query('{ limited }'), 'limited', 'ok');
      expectRefused(await query('{ limited }'));
      await harness.clock.advance(1000);
      expectData(await query('{ limited }'), 'limited', 'ok');
      expectRefused(await query('{ limited }'));
    });

    it('never limits a field without a decorator, even once the limited one is exhausted', async () => {
      for (let i = 0; i < 5; i++) expectData(await query('{ free }'), 'free', 'free');
      for (let i = 0; i < 3; i++) expectData(await query('{ limited }'), 'limited', 'ok');
      expectRefused(await query('{ limited }'));
      for (let i = 0; i < 5; i++) {
        const reply = await query('{ free }');
        expectData(reply, 'free', 'free');
        expect(reply.headers['retry-after']).toBeUndefined();
      }
    });
  });
}
