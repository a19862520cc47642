import { Controller, Get, Injectable, Module, UseInterceptors, type CallHandler, type INestApplication, type NestInterceptor } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { Observable } from 'rxjs';
import { FakeClock, LeakyBucket, LimiterInterceptor, LimiterModule, TokenBucket } from '../../lib';
import { createApp, urlOf } from '../support/app-factory';
import { send, until, type Reply } from '../support/http-client';

/** An interceptor of the application's own, to see where the limiter's goes among a handler's. */
@Injectable()
class AuditInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

/** Handler start times on the module's clock, by route. */
const starts = new Map<string, number[]>();
const clockRef: { current?: FakeClock } = {};
function started(route: string): string {
  starts.set(route, [...(starts.get(route) ?? []), clockRef.current!.now()]);
  return route;
}

@Controller('attach')
class AttachController {
  @Get('counted')
  @TokenBucket({ rate: 10, capacity: 20 })
  counted(): string {
    return 'counted';
  }

  @Get('meter')
  @LeakyBucket({ rate: 1, capacity: 5, mode: 'reject' })
  meter(): string {
    return 'meter';
  }

  @Get('shadow-wait')
  @LeakyBucket({ rate: 1, capacity: 5, dryRun: true })
  shadowWait(): string {
    return 'shadow-wait';
  }

  @Get('dynamic')
  @TokenBucket({ rate: () => 10, capacity: () => 20, cost: () => 1, key: (request: { ip: string }) => request.ip })
  dynamic(): string {
    return 'dynamic';
  }

  @Get('waits')
  @LeakyBucket({ rate: 1, capacity: 5 })
  waits(): string {
    return started('waits');
  }

  @Get('token-wait')
  @TokenBucket({ rate: 1, capacity: 1, mode: 'wait' })
  tokenWait(): string {
    return 'token-wait';
  }

  @Get('settles')
  @TokenBucket({ rate: 10, capacity: 20, settle: () => 1 })
  settles(): string {
    return 'settles';
  }

  @Get('by-user')
  @TokenBucket({ rate: 10, capacity: 20, key: { user: 'tenantId' } })
  byUser(): string {
    return 'by-user';
  }

  @Get('audited')
  @UseInterceptors(AuditInterceptor)
  @LeakyBucket({ rate: 1, capacity: 5 })
  audited(): string {
    return 'audited';
  }

  @Get('already')
  @UseInterceptors(LimiterInterceptor)
  @LeakyBucket({ rate: 1, capacity: 5 })
  already(): string {
    return 'already';
  }

  @Get('open')
  open(): string {
    return 'open';
  }
}

@Module({ controllers: [AttachController], providers: [AuditInterceptor] })
class AttachModule {}

/** Who the module's `key: 'user'` makes wait for authentication: every limited route. */
@Controller('keyed')
class KeyedByModuleController {
  @Get('counted')
  @TokenBucket({ rate: 10, capacity: 20 })
  counted(): string {
    return 'counted';
  }

  @Get('own-key')
  @TokenBucket({ rate: 10, capacity: 20, key: 'ip' })
  ownKey(): string {
    return 'own-key';
  }
}

@Module({ controllers: [KeyedByModuleController] })
class KeyedModule {}

/** The interceptors Nest will run for a handler of its own (after the global and controller ones). */
const interceptorsOf = (handler: Function): unknown[] => Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? [];

describe('LimiterExplorer attaches LimiterInterceptor only where a limit needs it (express)', () => {
  let app: INestApplication;
  let clock: FakeClock;

  beforeAll(async () => {
    clock = new FakeClock();
    clockRef.current = clock;
    // AttachModule imports the limiter itself: `@UseInterceptors(LimiterInterceptor)` resolves there.
    app = await createApp('express', { imports: [{ module: AttachModule, imports: [LimiterModule.forRoot({ clock })] }] });
  });

  afterAll(() => app.close());

  it.each(['counted', 'meter', 'shadow-wait', 'dynamic', 'open'] as const)('%s: a route that only counts (or is not limited) gets no interceptor', (route) => {
    const method = { counted: 'counted', meter: 'meter', 'shadow-wait': 'shadowWait', dynamic: 'dynamic', open: 'open' }[route] as keyof AttachController;
    expect(interceptorsOf(AttachController.prototype[method])).toEqual([]);
  });

  it.each(['waits', 'tokenWait', 'settles', 'byUser'] as const)('%s: a route that waits, settles or reads the user gets the application\'s interceptor', (method) => {
    expect(interceptorsOf(AttachController.prototype[method])).toEqual([app.get(LimiterInterceptor)]);
  });

  it("goes first among a handler's own interceptors, and is not added where it is already", () => {
    const audited = interceptorsOf(AttachController.prototype.audited);
    expect(audited).toHaveLength(2);
    expect(audited[0]).toBe(app.get(LimiterInterceptor));
    expect(audited[1]).toBe(AuditInterceptor);
    expect(interceptorsOf(AttachController.prototype.already)).toEqual([LimiterInterceptor]);
  });

  it('still holds a decorated wait-mode route: 3 requests to a 1/s leaky bucket start at 0, 1000 and 2000 ms', async () => {
    starts.clear();
    const url = urlOf(app);
    const replies: Reply[] = [];
    const all = Array.from({ length: 3 }, () => send(`${url}/attach/waits`).then((r) => (replies.push(r), r)));
    await until(() => replies.length === 1 && clock.pending === 2, 'one answered and two waiting');
    expect(starts.get('waits')).toEqual([0]);
    await clock.advance(999);
    expect(starts.get('waits')).toEqual([0]);
    await clock.advance(1);
    await until(() => replies.length === 2, 'the second answered');
    expect(starts.get('waits')).toEqual([0, 1000]);
    await clock.advance(1000);
    const done = await Promise.all(all);
    expect(done.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(starts.get('waits')).toEqual([0, 1000, 2000]);
  });

  it('answers a route without an interceptor as before', async () => {
    const reply = await send(`${urlOf(app)}/attach/counted`);
    expect(reply.status).toBe(200);
    expect(reply.headers['ratelimit']).toBe('"token-bucket";r=19;t=1');
  });
});

describe("LimiterExplorer with the module's key: 'user' (express)", () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp('express', { imports: [LimiterModule.forRoot({ clock: new FakeClock(), key: 'user' }), KeyedModule] });
  });

  afterAll(() => app.close());

  it('attaches the interceptor to every route keyed by the user, and not to one with its own key', () => {
    expect(interceptorsOf(KeyedByModuleController.prototype.counted)).toEqual([app.get(LimiterInterceptor)]);
    expect(interceptorsOf(KeyedByModuleController.prototype.ownKey)).toEqual([]);
  });
});
