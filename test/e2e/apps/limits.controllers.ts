import { Controller, Get, Module } from '@nestjs/common';
import { LeakyBucket, SkipLimit, TokenBucket } from '../../../lib';

/** Routes that exercise the decorators: one behaviour each. */
@Controller('limits')
export class LimitsController {
  @Get('token')
  @TokenBucket({ rate: 1, capacity: 3 })
  token(): string {
    return 'ok';
  }

  @Get('meter')
  @LeakyBucket({ rate: 1, capacity: 2, mode: 'reject' })
  meter(): string {
    return 'ok';
  }

  @Get('both')
  @TokenBucket({ rate: 1, capacity: 5, name: 'per-second' })
  @TokenBucket({ rate: 1, capacity: 2, name: 'tight', key: (req) => req.headers['x-user'] })
  both(): string {
    return 'ok';
  }

  @Get('shared-a')
  @TokenBucket({ rate: 1, capacity: 2, name: 'shared' })
  sharedA(): string {
    return 'a';
  }

  @Get('shared-b')
  @TokenBucket({ rate: 1, capacity: 2, name: 'shared' })
  sharedB(): string {
    return 'b';
  }

  @Get('free')
  free(): string {
    return 'free';
  }
}

/** A controller limited as a whole, with one method overriding and one skipping. */
@Controller('class')
@TokenBucket({ rate: 1, capacity: 1 })
export class ClassLimitedController {
  @Get('inherits')
  inherits(): string {
    return 'ok';
  }

  @Get('overrides')
  @TokenBucket({ rate: 1, capacity: 3 })
  overrides(): string {
    return 'ok';
  }

  @Get('skips')
  @SkipLimit()
  skips(): string {
    return 'ok';
  }
}

/** The controllers, as a module the tests import beside LimiterModule. */
@Module({ controllers: [LimitsController, ClassLimitedController] })
export class LimitsModule {}
