import type { INestApplication } from '@nestjs/common';
import request from 'supertest';

/** Sends `n` GET requests to the app one after another and returns their statuses. */
export async function statuses(app: INestApplication, path: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request(app.getHttpServer()).get(path).set(headers)).status);
  return out;
}
