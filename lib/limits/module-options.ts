import { Logger, type LoggerService } from '@nestjs/common';
import type { Clock } from '../core/clock';
import type { StoreErrorPolicy } from '../core/decision';
import { DEFAULTS } from '../core/defaults';
import { SystemClock } from '../core/system-clock';
import { expectKnownKeys, expectNumber, expectObject, expectOneOf } from '../errors/expect';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { STORE_ERROR_POLICIES } from '../failure/store-fallback';
import { resolveMetricsOptions, type ResolvedMetricsOptions } from '../metrics/metrics-options';
import { LimiterStore } from '../stores/limiter-store';
import { validateRedisStoreOptions, type RedisStoreOptions } from '../stores/redis/redis-store-options';
import { expectDryRun, type DryRun } from './dry-run';
import type { LimiterModuleOptions } from './limiter-module-options.interface';
import { resolveKeyOption, type CallKey } from './resolve-key';

/** DI token of the resolved (validated, defaulted) module options. */
export const LIMITER_OPTIONS = Symbol('LIMITER_OPTIONS');

/** Module options with defaults applied: what the providers are built from. */
export interface ResolvedLimiterOptions {
  readonly store: LimiterStore | { readonly memory: { readonly maxKeys: number } } | { readonly redis: RedisStoreOptions };
  readonly clock: Clock;
  readonly key?: CallKey;
  readonly dryRun: DryRun;
  readonly headers: boolean;
  readonly onStoreError: StoreErrorPolicy;
  readonly instances: number;
  readonly storeTimeoutMs: number;
  readonly breakerFailures: number;
  readonly breakerProbeMs: number;
  readonly readyTimeoutMs: number;
  /** Absent when metrics are off. */
  readonly metrics?: ResolvedMetricsOptions;
  /** Where the operator's lines go (store down, back); undefined: `logger: false`. */
  readonly logger?: LoggerService;
}

const WHERE = 'LimiterModule options';
const MODULE_FIELDS = ['store', 'clock', 'key', 'headers', 'dryRun', 'onStoreError', 'instances', 'storeTimeoutMs', 'breakerFailures', 'breakerProbeMs', 'readyTimeoutMs', 'metrics', 'logger', 'isGlobal'] as const;

/** Validates the module options once, at start-up (forRoot and the forRootAsync factory's result alike). */
export function resolveModuleOptions(raw: unknown = {}): ResolvedLimiterOptions {
  const options = expectObject(WHERE, 'options', raw) as LimiterModuleOptions & Record<string, unknown>;
  expectKnownKeys(WHERE, options, MODULE_FIELDS);
  return {
    store: resolveStore(options.store),
    clock: options.clock === undefined ? new SystemClock() : expectClock(options.clock),
    key: options.key === undefined ? undefined : resolveKeyOption(WHERE, options.key),
    dryRun: options.dryRun === undefined ? DEFAULTS.dryRun : expectDryRun(WHERE, options.dryRun),
    headers: options.headers === undefined ? DEFAULTS.headers : expectBoolean('headers', options.headers),
    onStoreError: options.onStoreError === undefined ? DEFAULTS.onStoreError : expectOneOf(WHERE, 'onStoreError', options.onStoreError, STORE_ERROR_POLICIES),
    instances: optional('instances', options.instances, DEFAULTS.instances, { integer: true, min: 1 }),
    storeTimeoutMs: optional('storeTimeoutMs', options.storeTimeoutMs, DEFAULTS.storeTimeoutMs, { min: 1, max: 60_000 }),
    breakerFailures: optional('breakerFailures', options.breakerFailures, DEFAULTS.breakerFailures, { integer: true, min: 1 }),
    breakerProbeMs: optional('breakerProbeMs', options.breakerProbeMs, DEFAULTS.breakerProbeMs, { min: 1, max: 3_600_000 }),
    readyTimeoutMs: optional('readyTimeoutMs', options.readyTimeoutMs, DEFAULTS.readyTimeoutMs, { min: 0, max: 600_000 }),
    metrics: resolveMetricsOptions(WHERE, options.metrics),
    logger: resolveLogger(options.logger),
  };
}

function resolveStore(store: unknown): ResolvedLimiterOptions['store'] {
  if (store === undefined) return { memory: { maxKeys: DEFAULTS.maxKeys } };
  if (store instanceof LimiterStore) return store;
  const spec = expectObject(WHERE, 'store', store) as Record<string, unknown>;
  if (spec.redis !== undefined) {
    expectKnownKeys(`${WHERE} store`, spec, ['redis', 'prefix', 'refusalCacheMs']);
    return { redis: validateRedisStoreOptions(WHERE, 'store.', spec) };
  }
  expectKnownKeys(`${WHERE} store`, spec, ['memory']);
  const memory = expectObject(WHERE, 'store.memory', spec.memory ?? {}) as Record<string, unknown>;
  expectKnownKeys(`${WHERE} store.memory`, memory, ['maxKeys']);
  const maxKeys = memory.maxKeys === undefined ? DEFAULTS.maxKeys : expectNumber(WHERE, 'store.memory.maxKeys', memory.maxKeys, { integer: true, min: 1 });
  return { memory: { maxKeys } };
}

function optional(field: string, value: unknown, fallback: number, rule: Parameters<typeof expectNumber>[3]): number {
  return value === undefined ? fallback : expectNumber(WHERE, field, value, rule);
}

function expectClock(clock: unknown): Clock {
  const c = clock as Clock | null;
  if (c && typeof c.now === 'function' && typeof c.sleep === 'function') return c;
  throw new LimiterConfigError(WHERE, 'clock', 'an object with now() and sleep(ms, signal)', clock);
}

/** `logger`: a Nest LoggerService, or false for silence; the default logs through Nest's Logger with the context `LimiterModule`. */
function resolveLogger(logger: unknown): LoggerService | undefined {
  if (logger === undefined) return new Logger('LimiterModule');
  if (logger === false) return undefined;
  const l = logger as Partial<LoggerService> | null;
  if (l && typeof l.log === 'function' && typeof l.warn === 'function' && typeof l.error === 'function') return l as LoggerService;
  throw new LimiterConfigError(WHERE, 'logger', 'a Nest LoggerService (log, warn, error) or false', logger);
}

function expectBoolean(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw new LimiterConfigError(WHERE, field, 'a boolean', value);
}
