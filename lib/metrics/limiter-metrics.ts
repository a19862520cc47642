import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { LimiterEvents, type DecisionEvent } from '../engine/limiter-events';
import type { BreakerState } from '../failure/circuit-breaker';
import type { MetricsRegistry, ResolvedMetricsOptions } from './metrics-options';
import type { PromClientModule } from './prom-client';

const WHERE = 'LimiterModule options';

/**
 * Seconds. Most waits are 0 (reject mode) or one emission interval of a fast bucket (a few ms),
 * hence the fine low end; a queue-and-wait route may hold a request up to its `maxWaitMs`, and a
 * wait longer than a minute is a client that has long given up.
 */
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** `store_up`: 1 the store decides (breaker closed), 0.5 one probe at a time (half-open), 0 it is not called (open). */
const STORE_UP: Record<BreakerState, number> = { closed: 1, 'half-open': 0.5, open: 0 };

const DECISION_LABELS = ['route', 'outcome', 'source', 'dry_run'] as const;
const WAIT_LABELS = ['route'] as const;

/**
 * The limiter's Prometheus metrics, kept up to date from its events. Labels are the route and
 * small enums only, never the key: a key is per client (an IP, a user), and a label value per
 * client is a time series per client, an unbounded cardinality that takes Prometheus down.
 */
export class LimiterMetrics {
  private readonly decisions: Counter<(typeof DECISION_LABELS)[number]>;
  private readonly waits: Histogram<(typeof WAIT_LABELS)[number]>;
  private readonly storeUp: Gauge;
  private readonly evictions: Counter;

  constructor(prom: PromClientModule, { registry = prom.register, prefix }: ResolvedMetricsOptions, events: LimiterEvents) {
    const registers = [registry as Registry];
    this.decisions = registered(registry, prefix, prom.Counter, 'decisions_total', DECISION_LABELS, (name) =>
      new prom.Counter({ name, help: 'Rate limit decisions, by route, outcome, deciding source and dry run.', labelNames: DECISION_LABELS, registers }),
    );
    this.waits = registered(registry, prefix, prom.Histogram, 'wait_seconds', WAIT_LABELS, (name) =>
      new prom.Histogram({
        name,
        help: 'How long admitted requests were held for their slot (0 in reject mode); dry runs, which hold nothing, are left out.',
        labelNames: WAIT_LABELS,
        buckets: WAIT_BUCKETS,
        registers,
      }),
    );
    this.storeUp = registered(registry, prefix, prom.Gauge, 'store_up', [], (name) =>
      new prom.Gauge({ name, help: 'The store: 1 up (breaker closed), 0.5 probing (half-open) or partly down (a Cluster master), 0 down (breaker open).', registers }),
    );
    this.evictions = registered(registry, prefix, prom.Counter, 'evictions_total', [], (name) =>
      new prom.Counter({ name, help: 'Live keys the memory store evicted at its maxKeys bound to admit new ones (the one that owed least each time).', registers }),
    );
    events.on('eviction', () => this.evictions.inc());
    // The breaker starts closed: until a storeHealth event says otherwise, the store is up.
    this.storeUp.set(STORE_UP.closed);
    events.on('decision', (event) => this.count(event));
    events.on('storeHealth', ({ state, overall }) => this.storeUp.set(STORE_UP[overall ?? state]));
  }

  private count({ where: route, decision, dryRun }: DecisionEvent): void {
    this.decisions.inc({ route, outcome: decision.allowed ? 'allowed' : decision.blocked ? 'blocked' : 'refused', source: decision.source, dry_run: String(dryRun) });
    if (decision.allowed && !dryRun) this.waits.observe({ route }, decision.delayMs / 1000);
  }
}

/**
 * The metric already registered as `<prefix><suffix>` (a second app in the same process, a test suite:
 * prom-client refuses a name twice), or a new one. A name taken by a metric of another kind or
 * other labels is refused at start-up: feeding it would throw in every listener call, listener
 * errors are swallowed, and the metrics would silently stay empty.
 */
function registered<M extends object>(
  registry: MetricsRegistry,
  prefix: string,
  kind: abstract new (...args: never[]) => M,
  suffix: string,
  labelNames: readonly string[],
  create: (name: string) => M,
): M {
  const name = `${prefix}${suffix}`;
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create(name);
  const labels = (existing as { labelNames?: readonly string[] }).labelNames ?? [];
  if (existing instanceof kind && labels.join() === labelNames.join()) return existing;
  throw new LimiterConfigError(WHERE, 'metrics.prefix', `a prefix under which \`${name}\` is free, or nest-limiter's own ${kind.name.toLowerCase()}`, prefix);
}
