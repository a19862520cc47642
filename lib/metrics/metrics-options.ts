import { LimiterConfigError } from '../errors/limiter-config.error';
import { expectKnownKeys } from '../errors/expect';

/**
 * The part of a prom-client `Registry` the limiter uses; pass a real `Registry`. Declared here
 * rather than imported so that nest-limiter's types compile without prom-client installed.
 */
export interface MetricsRegistry {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: never): void;
}

/** `metrics: { registry, prefix }`: where the limiter's Prometheus metrics are registered, and under which names. */
export interface MetricsOptions {
  /** A prom-client `Registry`. @default prom-client's global `register` */
  registry?: MetricsRegistry;
  /** Prepended to every metric name; a Prometheus name (`[a-zA-Z_:][a-zA-Z0-9_:]*`). @default 'nest_limiter_' */
  prefix?: string;
}

/** Metrics that are on, with defaults applied; `registry` undefined is prom-client's global `register`. */
export interface ResolvedMetricsOptions {
  readonly registry?: MetricsRegistry;
  readonly prefix: string;
}

const PROMETHEUS_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Validates `metrics` (a boolean, or `{ registry?, prefix? }`); undefined when metrics are off. */
export function resolveMetricsOptions(where: string, value: unknown): ResolvedMetricsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { prefix: 'nest_limiter_' };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LimiterConfigError(where, 'metrics', 'a boolean or an object { registry?, prefix? }', value);
  }
  expectKnownKeys(`${where} metrics`, value, ['registry', 'prefix']);
  const { registry, prefix } = value as Record<string, unknown>;
  if (prefix !== undefined && !(typeof prefix === 'string' && PROMETHEUS_PREFIX.test(prefix))) {
    throw new LimiterConfigError(where, 'metrics.prefix', `a Prometheus name prefix matching ${PROMETHEUS_PREFIX}`, prefix);
  }
  if (registry !== undefined && !isRegistry(registry)) {
    throw new LimiterConfigError(where, 'metrics.registry', 'a prom-client Registry', registry);
  }
  return { registry, prefix: prefix ?? 'nest_limiter_' };
}

function isRegistry(value: unknown): value is MetricsRegistry {
  const r = value as Partial<Record<keyof MetricsRegistry, unknown>> | null;
  return typeof r === 'object' && r !== null && typeof r.getSingleMetric === 'function' && typeof r.registerMetric === 'function';
}
