import { markSkipped } from './limit-metadata';

/** Exempts a route (or a whole controller, unless a method sets its own limits) from every limit. */
export function SkipLimit(): ClassDecorator & MethodDecorator {
  return markSkipped();
}
