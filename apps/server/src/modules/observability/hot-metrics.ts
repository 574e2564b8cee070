import type { Registry } from 'prom-client';

/**
 * Counters and histograms for the request path, registered in a prom-client registry. prom-client
 * validates and hashes a label set on every inc() and observe(), through a child from labels()
 * too: ~1–2 µs each, several per request. Here a label set's child holds plain numbers, and the
 * registry reads them at scrape time through the `get()` its own metrics offer (same exposition;
 * hot-metrics.test.ts compares the two).
 */

/** One exposed sample, as prom-client's registry renders it (`labels` first, then `sharedLabels`). */
interface Value {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

interface Series<C> {
  labels: Record<string, string>;
  child: C;
}

abstract class HotMetric<C> {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series<C>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly labelNames: readonly string[],
    registers: Registry[],
  ) {
    for (const registry of registers) registry.registerMetric(this as never);
  }

  protected abstract newChild(): C;
  protected abstract valuesOf(s: Series<C>): Value[];

  /** The child of one label set, values in `labelNames` order: keep it, the lookup joins them. */
  labels(...values: string[]): C {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i] ?? '';
      s = { labels, child: this.newChild() };
      this.series.set(key, s);
    }
    return s.child;
  }

  reset(): void {
    this.series.clear();
  }

  /** for the text exposition (the registry prefers it to get()) */
  async getForPromString() {
    const values: Value[] = [];
    for (const s of this.series.values()) values.push(...this.valuesOf(s));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** as prom-client's get(): each sample's labels in one object */
  async get() {
    const metric = await this.getForPromString();
    const values = metric.values.map(({ sharedLabels, ...v }) => ({
      ...v,
      labels: { ...v.labels, ...sharedLabels },
    }));
    return { ...metric, values };
  }
}

export interface CounterChild {
  inc(amount?: number): void;
}

interface Count extends CounterChild {
  value: number;
  /** inc() was called: the series exists (as in prom-client, a label set appears once used) */
  used: boolean;
}

export class HotCounter extends HotMetric<Count> {
  constructor(o: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] }) {
    super(o.name, o.help, 'counter', o.labelNames, o.registers);
  }

  protected newChild(): Count {
    return {
      value: 0,
      used: false,
      inc(amount = 1) {
        this.used = true;
        if (amount > 0) this.value += amount;
      },
    };
  }

  protected valuesOf(s: Series<Count>): Value[] {
    return s.child.used ? [{ labels: s.labels, value: s.child.value }] : [];
  }
}

export interface HistogramChild {
  observe(value: number): void;
}

interface Buckets extends HistogramChild {
  /** per bucket (not cumulative), the last one +Inf */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class HotHistogram extends HotMetric<Buckets> {
  private readonly bounds: readonly number[];

  constructor(o: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
    registers: Registry[];
  }) {
    super(o.name, o.help, 'histogram', o.labelNames, o.registers);
    this.bounds = [...o.buckets].sort((a, b) => a - b);
  }

  protected newChild(): Buckets {
    const bounds = this.bounds;
    return {
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
      observe(value) {
        if (!Number.isFinite(value)) return;
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        this.counts[i]! += 1;
        this.sum += value;
        this.count += 1;
      },
    };
  }

  protected valuesOf(s: Series<Buckets>): Value[] {
    if (s.child.count === 0) return [];
    const bucket = `${this.name}_bucket`;
    const out: Value[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += s.child.counts[i]!;
      out.push({
        labels: { le: this.bounds[i]! },
        sharedLabels: s.labels,
        value: cumulative,
        metricName: bucket,
      });
    }
    out.push(
      { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.child.count, metricName: bucket },
      { labels: s.labels, value: s.child.sum, metricName: `${this.name}_sum` },
      { labels: s.labels, value: s.child.count, metricName: `${this.name}_count` },
    );
    return out;
  }
}
