import { Controller, Get, Injectable, Module, Query, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TokenBucket } from '../../../lib';

/** Test users: `x-user: <id>:<plan>` signs a request in (what an auth guard would put on request.user). */
@Injectable()
export class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const header = request.headers['x-user'];
    if (typeof header === 'string') {
      const [id, plan] = header.split(':');
      request.user = { id, plan };
    }
    return true;
  }
}

const planCapacity = (request: { user?: { plan?: string } }): number => (request.user?.plan === 'pro' ? 5 : 2);

@Controller('per-call')
export class PerCallController {
  @Get('user')
  @TokenBucket({ rate: 1, capacity: 2, key: 'user' })
  byUser(): string {
    return 'ok';
  }

  @Get('plan')
  @TokenBucket({ rate: 1, capacity: planCapacity, key: 'user' })
  byPlan(): string {
    return 'ok';
  }

  @Get('api-key')
  @TokenBucket({ rate: 1, capacity: 2, key: { header: 'x-api-key' } })
  byApiKey(): string {
    return 'ok';
  }

  @Get('batch')
  @TokenBucket({ rate: 1, capacity: 10, cost: (request: { query: { size?: string } }) => Number(request.query.size ?? 1) })
  batch(@Query('size') size: string): string {
    return size;
  }

  @Get('enforced')
  @TokenBucket({ rate: 2, capacity: 3 })
  enforced(): string {
    return 'ok';
  }

  @Get('shadow')
  @TokenBucket({ rate: 2, capacity: 3, dryRun: true })
  shadow(): string {
    return 'ok';
  }

  @Get('shadow-headers')
  @TokenBucket({ rate: 2, capacity: 3, dryRun: { headers: true } })
  shadowWithHeaders(): string {
    return 'ok';
  }

  @Get('search')
  @TokenBucket({ rate: 1, capacity: 10, cost: 5, settle: (result: { hits: number }) => result.hits })
  search(@Query('hits') hits: string): { hits: number } {
    return { hits: Number(hits) };
  }
}

/** The per-call routes, with the test sign-in guard. */
@Module({ controllers: [PerCallController], providers: [{ provide: APP_GUARD, useClass: HeaderAuthGuard }] })
export class PerCallModule {}
