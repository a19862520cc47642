import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { FakeClock, TokenBucket } from '../../lib';
import { LimiterTestingModule } from '../../lib/testing';

@Controller('cats')
class CatsController {
  @Get()
  @TokenBucket({ rate: 1, capacity: 2 })
  findAll() {
    return ['Tom'];
  }
}

describe('GET /cats', () => {
  let app: INestApplication;
  let clock: FakeClock;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LimiterTestingModule.forRoot()],
      controllers: [CatsController],
    }).compile();
    app = await moduleRef.createNestApplication().init();
    clock = app.get(FakeClock);
  });

  afterEach(() => app.close());

  it('allows bursts of 2, then 1 per second', async () => {
    await request(app.getHttpServer()).get('/cats').expect(200);
    await request(app.getHttpServer()).get('/cats').expect(200);
    await request(app.getHttpServer()).get('/cats').expect(429).expect('retry-after', '1');

    await clock.advance(1000); // no sleeping: the limiter's clock moves when the test says
    await request(app.getHttpServer()).get('/cats').expect(200);
  });
});
