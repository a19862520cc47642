import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { LimiterRegistry } from '../limits/limiter.registry';

/**
 * Resolves the limits of every handler at bootstrap, so that a bad `@TokenBucket` /
 * `@LeakyBucket` stops the application at start-up with an error naming the handler and the
 * field, not at its first call: controller methods, and the methods of providers (GraphQL
 * resolvers, WebSocket gateways are providers).
 */
@Injectable()
export class LimiterExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: LimiterRegistry,
  ) {}

  onModuleInit(): void {
    const classes = new Set<Function>();
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      const type = (wrapper.instance?.constructor ?? wrapper.metatype) as Function | undefined;
      if (typeof type === 'function' && type.prototype && type !== Object) classes.add(type);
    }
    for (const type of classes) {
      for (const method of this.scanner.getAllMethodNames(type.prototype)) {
        this.registry.routePlan(type, type.prototype[method]);
      }
    }
  }
}
