/**
 * Loads a package nest-limiter uses for one transport only (graphql, @nestjs/websockets,
 * @nestjs/microservices): it is installed whenever a call arrives through that transport, and
 * never required otherwise. They must be the application's own copies, because Nest's exception
 * filters recognise their exception classes with `instanceof`.
 */
export function optionalPackage<T>(name: string): T {
  // Node's module cache makes every require after the first a lookup.
  return require(name) as T;
}
