// A user's app, compiled against the packed nest-limiter (types from its .d.ts) and run for real.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LimiterModule, TokenBucket, type Decision } from 'nest-limiter';

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

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${app.getHttpServer().address().port}/`;
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) codes.push((await fetch(url)).status);
  await app.close();
  const unused: Decision | undefined = undefined;
  if (codes.join() !== '200,200,429' || unused) throw new Error(`expected 200,200,429, got ${codes.join()}`);
  console.log('packed nest-limiter works in a fresh app: 200,200,429');
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
