import { Controller, Get } from '@nestjs/common';
import { SkipLimit, TokenBucket } from '../lib';

/** A public catalog: bursts of 20 per client, then 10 per second, else 429. */
@Controller('catalog')
@TokenBucket({ rate: 10, capacity: 20 })
export class CatalogController {
  @Get()
  list(): { items: string[] } {
    return { items: ['tea', 'coffee', 'cocoa'] };
  }

  @Get('health')
  @SkipLimit()
  health(): { ok: true } {
    return { ok: true };
  }
}
