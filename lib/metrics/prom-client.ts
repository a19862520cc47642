import type * as PromClient from 'prom-client';
import { LimiterConfigError } from '../errors/limiter-config.error';

/** prom-client's exports, as the application installed them. */
export type PromClientModule = typeof PromClient;

/**
 * Requires prom-client, an optional peer dependency: only when `metrics` is on, so that an
 * application without metrics never needs it installed. Its absence stops the start-up with the
 * command that fixes it; any other failure (one of prom-client's own dependencies missing, a
 * broken install) keeps its own error, which names the real culprit.
 */
export function loadPromClient(where: string, given: unknown): PromClientModule {
  try {
    return require('prom-client') as PromClientModule;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'prom-client'/.test((error as Error).message);
    if (!missing) throw error;
    throw new LimiterConfigError(where, 'metrics', 'off unless prom-client is installed (npm i prom-client)', given);
  }
}
