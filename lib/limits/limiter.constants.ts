/** DI token of the resolved (validated, defaulted) module options. */
export const LIMITER_OPTIONS = Symbol('LIMITER_OPTIONS');
