import { Empty } from 'antd';
import type { EChartsOption } from 'echarts';
import { useMemo } from 'react';
import { Chart, useAxisStyle } from '../../components/chart.tsx';
import { useT } from '../../i18n/index.tsx';
import { type JobEvent, lossSeries } from '../../lib/gateway-fine-tuning.ts';

/** Training loss per step and validation loss where measured, from the job's `metrics` events (live while it runs). */
export function LossChart({ events }: { events: JobEvent[] }) {
  const t = useT();
  const axis = useAxisStyle();
  const { train, valid } = useMemo(() => lossSeries(events), [events]);
  const option = useMemo<EChartsOption>(
    () => ({
      xAxis: { type: 'value', name: t('ft.step'), minInterval: 1, ...axis },
      yAxis: { type: 'value', name: t('ft.loss'), ...axis },
      series: [
        { name: t('ft.train_loss'), type: 'line', data: train, showSymbol: false, smooth: false },
        { name: t('ft.valid_loss'), type: 'line', data: valid, symbolSize: 6 },
      ],
    }),
    [train, valid, axis, t],
  );
  if (train.length === 0) return <Empty description={t('ft.no_metrics')} data-testid="ft-loss-empty" />;
  return (
    <div data-testid="ft-loss" data-points={train.length} data-last={train.at(-1)?.[1]}>
      <Chart option={option} height={260} />
    </div>
  );
}
