/** The base of every error nest-limiter throws: `code` is stable across versions, match on it. */
export abstract class LimiterError extends Error {
  /** A stable, machine-readable code, e.g. `LIMITER_INVALID_OPTION`. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
