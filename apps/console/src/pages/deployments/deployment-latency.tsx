import { Card, Typography } from 'antd';
import { useMemo } from 'react';
import { Chart, useAxisStyle } from '../../components/chart.tsx';
import { EmptyState } from '../../components/states.tsx';
import { rangeOf, useUsage } from '../../components/usage.ts';
import { useT } from '../../i18n/index.tsx';

/**
 * Latency (p50 and p95, hourly, last 24 h) of the deployments' models as the gateway metered it.
 * The usage API groups by model, not by replica, and has no time-to-first-token series.
 */
export function DeploymentLatency({ names }: { names: string[] }) {
  const t = useT();
  const axis = useAxisStyle();
  const range = useMemo(() => rangeOf('24h'), []);
  const usage = useUsage(range, 'model');
  const wanted = new Set(names);
  const rows = (usage.data?.data ?? []).filter((r) => r.model && wanted.has(r.model));
  const models = [...new Set(rows.map((r) => r.model!))];
  return (
    <Card size="small" title={t('dep.latency_chart')} style={{ marginTop: 16 }}>
      {rows.length === 0 ? (
        <EmptyState title={t('dep.latency_empty')} />
      ) : (
        <Chart
          testId="dep-latency-chart"
          height={240}
          option={{
            xAxis: { type: 'time', min: range.from.valueOf(), max: range.to.valueOf(), ...axis },
            yAxis: {
              type: 'value',
              axisLabel: { ...axis.axisLabel, formatter: '{value} ms' },
              splitLine: axis.splitLine,
            },
            series: models.flatMap((m) =>
              (['latency_p50_ms', 'latency_p95_ms'] as const).map((field) => ({
                name: `${m} ${field === 'latency_p50_ms' ? 'p50' : 'p95'}`,
                type: 'line' as const,
                data: rows.filter((r) => r.model === m).map((r) => [r.bucket_start, r[field]]),
              })),
            ),
          }}
        />
      )}
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('dep.latency_note')}
      </Typography.Text>
    </Card>
  );
}
