import { Controller, Get, Module, Req } from '@nestjs/common';
import { LeakyBucket, TokenBucket, type Clock } from '../../../lib';
import { reservationOf } from '../../../lib/enforcement/call-ledger';

/** Handler start times, as read from the module's clock, by route. */
export const starts = new Map<string, number[]>();

/** For /wait/fast: how long after its slot each handler started, on the module's clock (never negative). */
export const lateness: number[] = [];

/** The clock the handlers read; the test sets it before booting. */
export const clockRef: { current?: Clock } = {};

function started(route: string): string {
  const list = starts.get(route) ?? [];
  list.push(clockRef.current!.now());
  starts.set(route, list);
  return route;
}

@Controller('wait')
export class WaitingController {
  @Get('leaky')
  @LeakyBucket({ rate: 10, capacity: 20 })
  leaky(): string {
    return started('leaky');
  }

  @Get('token')
  @TokenBucket({ rate: 5, capacity: 1, mode: 'wait', maxWaitMs: 1000 })
  token(): string {
    return started('token');
  }

  @Get('slow-bank')
  @LeakyBucket({ rate: 1, capacity: 200 })
  slowBank(): string {
    return started('slow-bank');
  }

  @Get('fast')
  @LeakyBucket({ rate: 20, capacity: 100 })
  fast(@Req() request: object): string {
    lateness.push(clockRef.current!.now() - reservationOf(request)!.departAt);
    return started('fast');
  }

  @Get('open')
  open(): string {
    return 'open';
  }
}

/** The waiting routes, as a module the tests import beside LimiterModule. */
@Module({ controllers: [WaitingController] })
export class WaitingModule {}
