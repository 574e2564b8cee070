import type { ProviderRuntime } from '../providers/index.ts';
import type { CompiledModel, CompiledVersion, RouteTarget } from '../registry/index.ts';
import type { Endpoint } from './adapters/types.ts';
import type { BreakerBook, CircuitBreaker } from './circuit-breaker.ts';

export interface Pick {
  target: RouteTarget;
  provider: ProviderRuntime;
  breaker: CircuitBreaker;
}

/** A version by traffic weight (canary split). */
export function pickVersion(
  model: CompiledModel,
  random: () => number = Math.random,
): CompiledVersion | null {
  const versions = model.versions;
  if (versions.length <= 1) return versions[0] ?? null;
  let r = random() * model.totalWeight;
  for (const v of versions) {
    r -= v.weight;
    if (r < 0) return v;
  }
  return versions[versions.length - 1]!;
}

export interface ChooseDeps {
  providers: { get(id: string): ProviderRuntime | undefined };
  breakers: BreakerBook;
}

/**
 * The target for the next attempt: the lowest priority tier that has a usable target (provider
 * known, endpoint supported, breaker letting calls through, not tried yet in this request); within
 * it two candidates drawn by weight, the one with fewer outstanding calls per weight wins. At rest
 * this splits traffic by weight; under load it steers away from busy targets.
 */
export function chooseTarget(
  version: CompiledVersion,
  deps: ChooseDeps,
  endpoint: Endpoint,
  tried: ReadonlySet<string> | null,
  now: number,
  random: () => number = Math.random,
): Pick | null {
  for (const tier of version.tiers) {
    const pick = chooseInTier(tier, deps, endpoint, tried, now, random);
    if (pick) return pick;
  }
  return null;
}

function chooseInTier(
  tier: RouteTarget[],
  deps: ChooseDeps,
  endpoint: Endpoint,
  tried: ReadonlySet<string> | null,
  now: number,
  random: () => number,
): Pick | null {
  let first: Pick | null = null;
  let second: Pick | null = null;
  let firstWeight = 0;
  let secondWeight = 0;
  let total = 0;
  // Weighted reservoir sampling of two distinct candidates in one pass, no allocation per target.
  for (const target of tier) {
    if (target.weight <= 0 || tried?.has(target.key)) continue;
    const provider = deps.providers.get(target.runtime);
    if (!provider?.adapter.supports(endpoint)) continue;
    const breaker = deps.breakers.get(target.key, target.providerId, target.upstreamModel);
    if (!breaker.available(now)) continue;
    total += target.weight;
    if (random() * total < target.weight) {
      second = first;
      secondWeight = firstWeight;
      first = { target, provider, breaker };
      firstWeight = target.weight;
    } else if (!second || random() * (total - firstWeight) < target.weight) {
      second = { target, provider, breaker };
      secondWeight = target.weight;
    }
  }
  if (!first || !second) return first;
  const load = (p: Pick, w: number) => p.breaker.outstanding / w;
  return load(second, secondWeight) < load(first, firstWeight) ? second : first;
}

/** How long until some target of the version may be tried again (for Retry-After), in ms. */
export function soonestRetryMs(version: CompiledVersion | null, breakers: BreakerBook, now: number): number {
  let soonest = Number.POSITIVE_INFINITY;
  for (const tier of version?.tiers ?? []) {
    for (const t of tier) {
      const b = breakers.peek(t.key);
      soonest = Math.min(soonest, b ? b.retryInMs(now) : 0);
    }
  }
  return Number.isFinite(soonest) ? soonest : 0;
}
