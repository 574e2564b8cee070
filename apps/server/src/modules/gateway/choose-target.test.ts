import { describe, expect, it } from 'vitest';
import type { ProviderRuntime } from '../providers/index.ts';
import type { CompiledModel, CompiledVersion, RouteTarget } from '../registry/index.ts';
import { openAiCompatibleAdapter } from './adapters/openai-compatible/index.ts';
import { chooseTarget, pickVersion } from './choose-target.ts';
import { createBreakerBook, DEFAULT_BREAKER } from './circuit-breaker.ts';

const target = (providerId: string, weight = 1, priority = 0): RouteTarget => ({
  providerId,
  runtime: providerId,
  upstreamModel: 'm',
  weight,
  priority,
  key: `${providerId}\u0000m`,
});
const runtime = (id: string) => ({ id, adapter: openAiCompatibleAdapter }) as unknown as ProviderRuntime;
const providers = new Map(['p1', 'p2', 'p3'].map((id) => [id, runtime(id)]));
const version = (tiers: RouteTarget[][]): CompiledVersion => ({
  id: 'v',
  version: '1',
  weight: 100,
  tiers,
  pricing: null,
});

/** a deterministic random sequence */
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('choose target', () => {
  it('uses the lowest priority tier while it has a usable target', () => {
    const breakers = createBreakerBook({ ...DEFAULT_BREAKER, failureThreshold: 1 });
    const v = version([[target('p1')], [target('p2', 1, 1)]]);
    expect(chooseTarget(v, { providers, breakers }, 'chat.completions', null, 0)?.target.providerId).toBe(
      'p1',
    );
    expect(
      chooseTarget(v, { providers, breakers }, 'chat.completions', new Set([v.tiers[0]![0]!.key]), 0)?.target
        .providerId,
    ).toBe('p2');
    const b = breakers.get(v.tiers[0]![0]!.key, 'p1', 'm');
    b.acquire(0);
    b.failure(0);
    expect(chooseTarget(v, { providers, breakers }, 'chat.completions', null, 1)?.target.providerId).toBe(
      'p2',
    );
  });

  it('splits by weight at rest and prefers the less busy target under load', () => {
    const breakers = createBreakerBook(DEFAULT_BREAKER);
    const v = version([[target('p1', 3), target('p2', 1)]]);
    const counts: Record<string, number> = { p1: 0, p2: 0 };
    let r = 0;
    const random = () => {
      r = (r * 9301 + 49297) % 233280;
      return r / 233280;
    };
    for (let i = 0; i < 4_000; i++)
      counts[
        chooseTarget(v, { providers, breakers }, 'chat.completions', null, 0, random)!.target.providerId
      ]! += 1;
    expect(counts.p1! / 4_000).toBeGreaterThan(0.65);
    expect(counts.p1! / 4_000).toBeLessThan(0.85);
    for (let i = 0; i < 10; i++) breakers.get(v.tiers[0]![0]!.key, 'p1', 'm').acquire(0);
    const picks = new Set(
      Array.from(
        { length: 20 },
        () =>
          chooseTarget(v, { providers, breakers }, 'chat.completions', null, 0, random)!.target.providerId,
      ),
    );
    expect(picks).toEqual(new Set(['p2']));
  });

  it('skips unknown providers and answers null when nothing is usable', () => {
    const breakers = createBreakerBook(DEFAULT_BREAKER);
    expect(
      chooseTarget(version([[target('gone')]]), { providers, breakers }, 'chat.completions', null, 0),
    ).toBeNull();
  });

  it('picks versions by traffic weight', () => {
    const model = {
      versions: [version([]), { ...version([]), version: '2', weight: 10 }],
      totalWeight: 110,
    } as unknown as CompiledModel;
    expect(pickVersion(model, seq(0.5))!.version).toBe('1');
    expect(pickVersion(model, seq(0.95))!.version).toBe('2');
  });
});
