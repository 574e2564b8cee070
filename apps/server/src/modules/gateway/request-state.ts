import type { KeyPrincipal } from '../../http/principal.ts';
import type { RequestGuard } from '../guardrails/index.ts';
import type { Reservation } from '../limits/index.ts';
import type { USAGE_OUTCOMES } from '../metering/index.ts';
import type { RequestTrace } from '../observability/index.ts';
import type { CompiledModel, CompiledVersion, RouteTarget } from '../registry/index.ts';
import type { AbortSwitch } from './abort-switch.ts';
import type { Endpoint, Usage } from './adapters/types.ts';
import type { CachePlan } from './cache/index.ts';
import type { MediaCall } from './media/media-call.ts';

export type Outcome = (typeof USAGE_OUTCOMES)[number];

/** Everything one /v1 inference request learns on its way; settled into one usage event. */
export interface RequestState {
  requestId: string;
  key: KeyPrincipal;
  endpoint: Endpoint;
  createdAt: Date;
  /** performance.now() at arrival */
  startedAt: number;
  modelName: string;
  body: Record<string, unknown> | null;
  stream: boolean;
  clientWantsUsage: boolean;
  model: CompiledModel | null;
  version: CompiledVersion | null;
  target: RouteTarget | null;
  /** the name of the target's provider (for metrics) */
  providerName: string | null;
  attempts: number;
  fallbackFrom: string | null;
  /** guardrails of the model and the key (null: none) */
  guard: RequestGuard | null;
  /** where a good answer goes in the response cache (null: not cached) */
  cache: CachePlan | null;
  /** response headers went to the client: no more retries */
  committed: boolean;
  clientGone: boolean;
  /** aborts the attempt in flight */
  controller: AbortSwitch | null;
  /** ms spent waiting on upstreams and backoff, for x-maas-overhead-ms */
  waitedMs: number;
  ttftMs: number | null;
  usage: Usage | null;
  /** generated text (or how to get it), only used when the upstream reported no usage */
  completionText: (() => string) | string;
  /** an upstream produced output (or accepted the prompt): an estimate is owed without usage */
  billable: boolean;
  outcome: Outcome;
  httpStatus: number;
  errorCode: string | null;
  settled: boolean;
  /** the request trace's end, when usage was settled before the answer was sent (ends at the finish) */
  finishTrace: (() => void) | null;
  /** what admission reserved against limits; settled with the actual usage */
  reservation: Reservation | null;
  /** what fallback hops reserved against their models' own limits (null: no hop was admitted) */
  hopReservations: Reservation[] | null;
  /** the request's trace when tracing is on (OTEL_TRACES_EXPORTER), else null */
  trace: RequestTrace | null;
  /** a line of this batch: draws on the batch's quota hold and is priced with the batch discount */
  batchId: string | null;
  /** an image or audio call: how to call the upstream and relay its answer, and its units */
  media: MediaCall | null;
}

export function newRequestState(
  requestId: string,
  key: KeyPrincipal,
  endpoint: Endpoint,
  batchId: string | null = null,
): RequestState {
  return {
    batchId,
    requestId,
    key,
    endpoint,
    createdAt: new Date(),
    startedAt: performance.now(),
    modelName: '',
    body: null,
    stream: false,
    clientWantsUsage: false,
    model: null,
    version: null,
    target: null,
    providerName: null,
    attempts: 0,
    fallbackFrom: null,
    guard: null,
    cache: null,
    committed: false,
    clientGone: false,
    controller: null,
    waitedMs: 0,
    ttftMs: null,
    usage: null,
    completionText: '',
    billable: false,
    outcome: 'success',
    httpStatus: 200,
    errorCode: null,
    settled: false,
    finishTrace: null,
    reservation: null,
    hopReservations: null,
    trace: null,
    media: null,
  };
}

/** The model asked for, under its own name (an alias counts as its model); null when none matched. */
export function requestedModel(state: RequestState): string | null {
  return state.fallbackFrom ?? state.model?.name ?? null;
}
