// A user's app, compiled against the packed nest-limiter (types from its .d.ts) and run for real.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FakeClock, LimiterModule, TokenBucket, type Decision } from 'nest-limiter';
import { LimiterTestingModule } from 'nest-limiter/testing';

@Controller()
class AppController {
  @Get()
  @TokenBucket({ rate: 1, capacity: 2 })
  hello(): string {
    return 'hello';
  }
}

@Module({ imports: [LimiterModule.forRoot()], controllers: [AppController] })
class AppModule {}

@Module({ imports: [LimiterTestingModule.forRoot()], controllers: [AppController] })
class TestedAppModule {}

/** The statuses of `n` requests to the app's root, one after another. */
async function statuses(url: string, n: number): Promise<string> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) codes.push((await fetch(url)).status);
  return codes.join();
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const codes = await statuses(`http://127.0.0.1:${app.getHttpServer().address().port}/`, 3);
  await app.close();
  const unused: Decision | undefined = undefined;
  if (codes !== '200,200,429' || unused) throw new Error(`expected 200,200,429, got ${codes}`);
  console.log('packed nest-limiter works in a fresh app: 200,200,429');

  const tested = await NestFactory.create(TestedAppModule, { logger: false });
  await tested.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${tested.getHttpServer().address().port}/`;
  const before = await statuses(url, 3);
  await tested.get(FakeClock).advance(1000);
  const after = await statuses(url, 1);
  await tested.close();
  if (`${before}|${after}` !== '200,200,429|200') throw new Error(`expected 200,200,429 then 200, got ${before} then ${after}`);
  console.log('nest-limiter/testing: 200,200,429, clock.advance(1000), 200');
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
