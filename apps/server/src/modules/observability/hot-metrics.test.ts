import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from './hot-metrics.ts';

const buckets = [0.005, 0.01, 0.1, 1];
const sorted = async (r: Registry) => (await r.metrics()).split('\n').sort();

describe('hot metrics', () => {
  it('expose what prom-client exposes for the same observations', async () => {
    const hot = new Registry();
    const prom = new Registry();
    const hc = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['a', 'b'], registers: [hot] });
    const pc = new Counter({ name: 'c_total', help: 'c', labelNames: ['a', 'b'], registers: [prom] });
    const hh = new HotHistogram({ name: 'h', help: 'h', labelNames: ['a'], buckets, registers: [hot] });
    const ph = new Histogram({ name: 'h', help: 'h', labelNames: ['a'], buckets, registers: [prom] });
    // label values that need escaping, a bound hit exactly, one past the last bound, zero
    const labelSets = [
      ['x"y', 'p\\q'],
      ['z', 'line\nbreak'],
    ] as const;
    for (const [a, b] of labelSets) {
      const c = hc.labels(a, b);
      const h = hh.labels(a);
      for (const v of [0, 0.005, 0.0051, 0.5, 1, 7]) {
        c.inc(3);
        pc.labels(a, b).inc(3);
        h.observe(v);
        ph.labels(a).observe(v);
      }
    }
    // a child never used is not a series yet, as in prom-client
    hc.labels('unused', 'unused');
    hh.labels('unused');
    expect(await sorted(hot)).toEqual(await sorted(prom));
    expect((await hot.getMetricsAsJSON()).map((m) => m.values.length)).toEqual(
      (await prom.getMetricsAsJSON()).map((m) => m.values.length),
    );
  });
});
