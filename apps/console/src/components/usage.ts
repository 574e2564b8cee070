import { keepPreviousData, useQuery } from '@tanstack/react-query';
import dayjs, { type Dayjs } from 'dayjs';
import { api, type Query } from '../api/client.ts';
import { useOrgKey } from '../api/queries.ts';
import type { UsageResult, UsageRow } from '../api/types.ts';

export type RangePreset = '24h' | '7d' | '30d' | '90d';
export interface TimeRange {
  from: Dayjs;
  to: Dayjs;
  granularity: 'hour' | 'day';
}

export function rangeOf(preset: RangePreset): TimeRange {
  const now = dayjs();
  if (preset === '24h')
    return {
      from: now.subtract(23, 'hour').startOf('hour'),
      to: now.add(1, 'hour').startOf('hour'),
      granularity: 'hour',
    };
  const days = preset === '7d' ? 7 : preset === '30d' ? 30 : 90;
  return {
    from: now.subtract(days - 1, 'day').startOf('day'),
    to: now.add(1, 'day').startOf('day'),
    granularity: 'day',
  };
}

export function customRange(from: Dayjs, to: Dayjs): TimeRange {
  const hours = to.diff(from, 'hour');
  return hours <= 72
    ? { from: from.startOf('hour'), to: to.add(1, 'hour').startOf('hour'), granularity: 'hour' }
    : { from: from.startOf('day'), to: to.add(1, 'day').startOf('day'), granularity: 'day' };
}

export function useUsage(
  range: TimeRange,
  groupBy: string,
  filters: Query = {},
  granularity = range.granularity,
) {
  const query = {
    group_by: groupBy,
    granularity,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    ...filters,
  };
  return useQuery({
    queryKey: useOrgKey('usage', query),
    queryFn: () => api.get<UsageResult>('/api/v1/usage', query),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
}

/** Every bucket of the range, so charts show gaps as zero rather than joining distant points. */
export function bucketsOf(range: TimeRange, granularity = range.granularity): string[] {
  const out: string[] = [];
  for (let at = range.from.startOf(granularity); at.isBefore(range.to); at = at.add(1, granularity))
    out.push(at.toISOString());
  return out;
}

export function bucketLabel(iso: string, granularity: 'hour' | 'day'): string {
  return dayjs(iso).format(granularity === 'hour' ? 'MM-DD HH:00' : 'YYYY-MM-DD');
}

/** Rows of one time series keyed by bucket start (ISO), so lookups survive format differences. */
export function byBucket(rows: UsageRow[]): Map<number, UsageRow> {
  return new Map(rows.map((r) => [new Date(r.bucket_start).getTime(), r]));
}

export interface Ranked {
  id: string;
  requests: number;
  tokens: number;
  errors: number;
  cost: number;
  currency: string;
}

/** Sums grouped rows over time per value of one dimension, biggest first. */
export function rank(rows: UsageRow[], field: 'model' | 'project_id' | 'key_id'): Ranked[] {
  const sums = new Map<string, Ranked>();
  for (const r of rows) {
    const id = r[field] ?? '—';
    const s = sums.get(id) ?? { id, requests: 0, tokens: 0, errors: 0, cost: 0, currency: r.currency };
    s.requests += r.requests;
    s.tokens += r.total_tokens;
    s.errors += r.errors;
    s.cost += r.cost;
    sums.set(id, s);
  }
  return [...sums.values()].sort((a, b) => b.requests - a.requests || b.tokens - a.tokens);
}
