import type { ActualUsage, AdmitResult, Demand, Reservation } from './engine.ts';
import type { LimitSubject } from './policy.ts';
import { toLimitError } from './rate-limit-headers.ts';
import type { LimitService } from './service.ts';

export { type AlertEvents, THRESHOLD_EVENT } from './alerts.ts';
export {
  type ActualUsage,
  type AdmitResult,
  createLimitEngine,
  type Demand,
  type LimitEngine,
  type Reservation,
  type SoftAlert,
} from './engine.ts';
export type { Held, Hold, HoldBook } from './holds.ts';
export type { LimitPolicy, LimitSubject, ResolvedPolicies } from './policy.ts';
export {
  formatResetDuration,
  type LimitRejection,
  renderRateLimitHeaders,
  toLimitError,
} from './rate-limit-headers.ts';
export { limitRoutes } from './routes.ts';
export { createLimitService, type LimitService, type LimitServiceDeps } from './service.ts';

/**
 * For the gateway, before dispatch: reserves the request against every policy of its key, project
 * and org (`demand.tokens` = prompt tokens + max_tokens or the model's default; `demand.cost` = what
 * those tokens would cost at the model's price). Throws the 429 (`rate_limit_exceeded` or
 * `insufficient_quota`, OpenAI's shape on /v1, with Retry-After and x-ratelimit-* headers) when refused;
 * otherwise returns the reservation and the x-ratelimit-* headers to put on the response.
 */
export function admitRequest(
  limits: LimitService,
  subject: LimitSubject,
  demand: Demand,
  holdOf: string | null = null,
):
  | { reservation: Reservation; headers: Record<string, string> }
  | Promise<{ reservation: Reservation; headers: Record<string, string> }> {
  const result = limits.admitRequest(subject, demand, holdOf);
  return result instanceof Promise ? result.then(admittedOrThrow) : admittedOrThrow(result);
}

function admittedOrThrow(result: AdmitResult): { reservation: Reservation; headers: Record<string, string> } {
  if (!result.ok) throw toLimitError(result);
  return { reservation: result.reservation, headers: result.headers };
}

/**
 * For the gateway, once the request ended however it ended: charges the actual usage (0 when nothing
 * ran) and frees the concurrency slot. Call exactly once per admitted request; never throws.
 */
export function settleRequest(
  limits: LimitService,
  reservation: Reservation,
  actual: ActualUsage,
): void | Promise<void> {
  return limits.settleRequest(reservation, actual);
}
