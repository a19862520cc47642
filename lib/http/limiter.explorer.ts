import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { LimiterRegistry } from '../limiter.registry';

/**
 * Resolves the limits of every controller method at bootstrap, so that a bad `@TokenBucket` /
 * `@LeakyBucket` stops the application at start-up with an error naming the route and the field,
 * not at its first request.
 */
@Injectable()
export class LimiterExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: LimiterRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Function | undefined;
      if (!controller?.prototype) continue;
      for (const method of this.scanner.getAllMethodNames(controller.prototype)) {
        this.registry.routePlan(controller, controller.prototype[method]);
      }
    }
  }
}
