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
