import { Injectable } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { LimiterRegistry } from '../limits/limiter.registry';
import { LimiterInterceptor } from './limiter.interceptor';

/**
 * Resolves the limits of every handler as the application is created, so that a bad
 * `@TokenBucket` / `@LeakyBucket` stops it at start-up with an error naming the handler and the
 * field, not at its first call: controller methods, and the methods of providers (GraphQL
 * resolvers and WebSocket gateways are providers). It also attaches LimiterInterceptor to each
 * handler whose limits need it, and to no other, so routes that only count pay for no
 * interceptor. It works in the constructor because Nest reads a handler's interceptors when it
 * registers its routes, which comes before any `onModuleInit`.
 */
@Injectable()
export class LimiterExplorer {
  constructor(discovery: DiscoveryService, scanner: MetadataScanner, registry: LimiterRegistry, interceptor: LimiterInterceptor) {
    const classes = new Set<Function>();
    for (const wrapper of [...discovery.getControllers(), ...discovery.getProviders()]) {
      const type = (wrapper.instance?.constructor ?? wrapper.metatype) as Function | undefined;
      if (typeof type === 'function' && type.prototype && type !== Object) classes.add(type);
    }
    for (const type of classes) {
      for (const method of scanner.getAllMethodNames(type.prototype)) {
        const handler = type.prototype[method] as Function;
        if (registry.routePlan(type, handler)?.intercepted) attach(handler, interceptor);
      }
    }
  }
}

/**
 * Puts the interceptor first among the handler's own interceptors, once: after the global and
 * the controller's interceptors. Any LimiterInterceptor already there will do, since the
 * application that decided a call is the one that holds it (see CallLedger).
 */
function attach(handler: Function, interceptor: LimiterInterceptor): void {
  const own: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? [];
  if (own.some((i) => i === LimiterInterceptor || i instanceof LimiterInterceptor)) return;
  Reflect.defineMetadata(INTERCEPTORS_METADATA, [interceptor, ...own], handler);
}
