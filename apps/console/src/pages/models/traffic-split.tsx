import { Alert, Button, InputNumber, Progress, Slider, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import type { Model } from '../../api/types.ts';
import { PALETTE } from '../../components/chart.tsx';
import { useT } from '../../i18n/index.tsx';

/** Canary: how traffic splits between versions, moved with a slider per version and saved at once. */
export function TrafficSplit({ model, canWrite }: { model: Model; canWrite: boolean }) {
  const t = useT();
  const [weights, setWeights] = useState<Record<string, number>>(model.traffic);
  useEffect(() => {
    setWeights(model.traffic);
  }, [model.traffic]);
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const changed = JSON.stringify(weights) !== JSON.stringify(model.traffic);
  const save = useApiMutation(
    (w: Record<string, number>) => api.put<Model>(`/api/v1/models/${model.id}/traffic`, { weights: w }),
    {
      success: t('models.traffic_saved'),
      invalidate: ['models'],
    },
  );
  const pct = (v: string) => (total > 0 ? Math.round(((weights[v] ?? 0) / total) * 1000) / 10 : 0);

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('models.traffic_hint')}
      </Typography.Paragraph>
      <div
        style={{ display: 'flex', height: 28, borderRadius: 6, overflow: 'hidden' }}
        data-testid="traffic-bar"
      >
        {model.versions.map((v, i) =>
          pct(v.version) > 0 ? (
            <div
              key={v.version}
              style={{
                width: `${pct(v.version)}%`,
                background: PALETTE[i % PALETTE.length],
                color: '#fff',
                fontSize: 12,
                display: 'flex',
                alignItems: 'center',
                justifyContent: 'center',
                whiteSpace: 'nowrap',
                overflow: 'hidden',
              }}
            >
              v{v.version} · {pct(v.version)}%
            </div>
          ) : null,
        )}
      </div>
      {total === 0 ? <Alert type="error" showIcon message={t('models.traffic_zero')} /> : null}
      {model.versions.map((v, i) => (
        <div
          key={v.version}
          style={{
            display: 'grid',
            gridTemplateColumns: '110px 1fr 100px 70px',
            gap: 16,
            alignItems: 'center',
          }}
        >
          <Typography.Text strong>
            <span
              style={{
                display: 'inline-block',
                width: 10,
                height: 10,
                borderRadius: 2,
                background: PALETTE[i % PALETTE.length],
                marginRight: 8,
              }}
            />
            {t('models.version')} {v.version}
          </Typography.Text>
          <Slider
            min={0}
            max={100}
            disabled={!canWrite}
            value={Math.min(100, weights[v.version] ?? 0)}
            onChange={(n) => setWeights((w) => ({ ...w, [v.version]: n }))}
            data-testid={`traffic-slider-${v.version}`}
          />
          <InputNumber
            min={0}
            max={10_000}
            disabled={!canWrite}
            value={weights[v.version] ?? 0}
            onChange={(n) => setWeights((w) => ({ ...w, [v.version]: n ?? 0 }))}
          />
          <Progress type="circle" size={44} percent={pct(v.version)} format={(p) => `${p}%`} />
        </div>
      ))}
      {canWrite ? (
        <Space>
          <Button
            type="primary"
            disabled={!changed || total === 0}
            loading={save.isPending}
            onClick={() => save.mutate(weights)}
          >
            {t('models.traffic_save')}
          </Button>
          <Button disabled={!changed} onClick={() => setWeights(model.traffic)}>
            {t('action.reset')}
          </Button>
        </Space>
      ) : null}
    </Space>
  );
}
