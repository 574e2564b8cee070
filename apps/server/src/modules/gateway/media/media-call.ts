import type { MediaUsage } from '../../metering/index.ts';
import type { UpstreamRequest } from '../adapters/types.ts';
import type { AttemptResult, Relay } from '../attempt.ts';

/**
 * What an image or audio request adds to the gateway's path (set on RequestState.media): how to
 * build the upstream request for a target, how to relay its answer, and the units it is metered in.
 */
export interface MediaCall {
  /** the units admission reserves for (the most this request can cost) */
  estimate: MediaUsage;
  /** the units the answer proved (null until one arrived: nothing to bill) */
  actual: MediaUsage | null;
  /** the upstream request for a target: the body (with the default params merged) under its model name */
  build(body: Record<string, unknown>, upstreamModel: string, basePath: string): Promise<UpstreamRequest>;
  /** relays a successful (status < 400) upstream answer to the client */
  relay(relay: Relay): Promise<AttemptResult>;
}

export const NO_UNITS: MediaUsage = { images: 0, imageSize: null, audioMs: 0, characters: 0 };
