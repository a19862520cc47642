import { request, type Agent } from 'node:http';

/** What a bench request came back with. */
export interface Reply {
  readonly status: number;
  readonly body: string;
}

export interface Call {
  readonly port: number;
  readonly path: string;
  readonly method?: string;
  readonly body?: unknown;
  /** `false` (the default) opens a connection of its own, as a separate client would. */
  readonly agent?: Agent | false;
}

/** One HTTP request to 127.0.0.1 (benches never leave the loopback), resolved with its status and body. */
export function call({ port, path, method = 'GET', body, agent = false }: Call): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, agent, headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
