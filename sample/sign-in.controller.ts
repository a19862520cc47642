import { Body, Controller, HttpCode, Post, UnauthorizedException } from '@nestjs/common';
import { LimiterService, TokenBucket } from '../lib';

const HOUR = 3_600_000;
/** Only failed attempts count: each is charged up front, and a success settles its charge to 0. */
const successCostsNothing = () => 0;
const username = (req: { body?: { username?: unknown } }) => (typeof req.body?.username === 'string' ? req.body.username : undefined);

@Controller('sign-in')
export class SignInController {
  constructor(private readonly limiter: LimiterService) {}

  @Post()
  @HttpCode(200)
  // Per IP: 20 failed attempts (refilled over 15 minutes), then refused for an hour.
  @TokenBucket({ name: 'sign-in-ip', rate: 20 / 900, capacity: 20, blockMs: HOUR, settle: successCostsNothing })
  // Per username: 5 failed attempts (refilled over 15 minutes), then refused for an hour.
  @TokenBucket({ name: 'sign-in-user', rate: 5 / 900, capacity: 5, blockMs: HOUR, settle: successCostsNothing, key: username })
  async signIn(@Body() body: { username: string; password: string }) {
    if (body.password !== 'right') throw new UnauthorizedException(); // your password check
    await this.limiter.reset(body.username); // a success forgets the user's failures
    return { signedIn: body.username };
  }
}
