import { Controller, Get, Injectable, Module } from '@nestjs/common';
import request from 'supertest';
import { FakeClock, LeakyBucket, LimiterConfigError, LimiterModule, LimiterService, TokenBucket, type LimiterModuleOptions, type LimiterOptionsFactory } from '../../lib';
import { createApp } from '../support/app-factory';

@Controller('refunds')
class RefundsController {
  @Get()
  @TokenBucket({ rate: 1, capacity: 2 })
  refund(): string {
    return 'ok';
  }
}

@Controller('bad')
class BadRefundsController {
  @Get()
  @LeakyBucket({ rate: 1, capacity: -1 })
  refund(): string {
    return 'never';
  }
}

/** A provider with a limited method: what GraphQL resolvers and WebSocket gateways are. */
@Injectable()
class BadGateway {
  @TokenBucket({ rate: 0, capacity: 1 })
  onMessage(): string {
    return 'never';
  }
}

@Injectable()
class OptionsFromClass implements LimiterOptionsFactory {
  createLimiterOptions(): LimiterModuleOptions {
    return { clock: new FakeClock() };
  }
}

@Module({ providers: [OptionsFromClass], exports: [OptionsFromClass] })
class ConfigModule {}

/** Two requests pass, the third is refused: the module works with these options. */
async function expectLimited(imports: any[]): Promise<void> {
  const app = await createApp('express', { imports, controllers: [RefundsController] });
  try {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await request(app.getHttpServer()).get('/refunds')).status);
    expect(codes).toEqual([200, 200, 429]);
  } finally {
    await app.close();
  }
}

describe('LimiterModule', () => {
  it('works with forRoot() and no options (memory store, system clock)', () => expectLimited([LimiterModule.forRoot()]));

  it('works with forRootAsync({ useFactory, inject })', () =>
    expectLimited([
      LimiterModule.forRootAsync({ imports: [ConfigModule], inject: [OptionsFromClass], useFactory: (c: OptionsFromClass) => c.createLimiterOptions() }),
    ]));

  it('works with forRootAsync({ useClass })', () => expectLimited([LimiterModule.forRootAsync({ useClass: OptionsFromClass })]));

  it('works with forRootAsync({ useExisting })', () =>
    expectLimited([LimiterModule.forRootAsync({ imports: [ConfigModule], useExisting: OptionsFromClass })]));

  it('stops the app at bootstrap when a decorator has a bad option, naming the route and the field', async () => {
    const boot = createApp('express', { imports: [LimiterModule.forRoot()], controllers: [BadRefundsController] });
    await expect(boot).rejects.toThrow(LimiterConfigError);
    await expect(boot).rejects.toThrow(
      'BadRefundsController.refund @LeakyBucket: expected `capacity` to be an integer >= 1, got -1 (number). [LIMITER_INVALID_OPTION]',
    );
  });

  it('checks the limits of providers too (resolvers, gateways) at bootstrap', async () => {
    const boot = createApp('express', { imports: [LimiterModule.forRoot()], providers: [BadGateway] });
    await expect(boot).rejects.toThrow('BadGateway.onMessage @TokenBucket: expected `rate` to be a finite number >= 0.000001, got 0 (number)');
  });

  it('stops the app at bootstrap when the async factory returns bad options', async () => {
    const boot = createApp('express', {
      imports: [LimiterModule.forRootAsync({ useFactory: () => ({ store: { memory: { maxKeys: 0 } } }) })],
      controllers: [RefundsController],
    });
    await expect(boot).rejects.toThrow('LimiterModule options: expected `store.memory.maxKeys` to be an integer >= 1, got 0 (number).');
  });

  it('refuses unknown option names instead of ignoring a typo', () => {
    expect(() => LimiterModule.forRoot({ heders: false } as never)).not.toThrow();
    return expect(createApp('express', { imports: [LimiterModule.forRoot({ heders: false } as never)] })).rejects.toThrow(
      'LimiterModule options: expected `heders` to be a known option',
    );
  });

  it('makes LimiterService injectable in every module when isGlobal is set', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly limiter: LimiterService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const app = await createApp('express', { imports: [LimiterModule.forRoot({ isGlobal: true }), FeatureModule] });
    try {
      expect(app.get(Consumer).limiter).toBeInstanceOf(LimiterService);
    } finally {
      await app.close();
    }
  });
});
