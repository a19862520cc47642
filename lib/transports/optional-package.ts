const loaded = new Map<string, unknown>();

/**
 * Loads a package nest-limiter uses for one transport only (graphql, @nestjs/websockets,
 * @nestjs/microservices): it is installed whenever a call arrives through that transport, and
 * never required otherwise. They must be the application's own copies, because Nest's exception
 * filters recognise their exception classes with `instanceof`.
 */
export function optionalPackage<T>(name: string): T {
  let value = loaded.get(name);
  if (value === undefined) {
    value = require(name);
    loaded.set(name, value);
  }
  return value as T;
}
