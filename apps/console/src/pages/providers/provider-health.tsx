import { useQuery } from '@tanstack/react-query';
import { Badge, Descriptions, Drawer, Space, Spin, Table, Tag, Typography } from 'antd';
import { api } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';
import type { Provider, ProviderHealth, TargetState } from '../../api/types.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime, formatMs, formatPercent, fromNow } from '../../lib/format.ts';

const STATUS: Record<ProviderHealth['status'], 'success' | 'warning' | 'error' | 'default'> = {
  healthy: 'success',
  degraded: 'warning',
  unhealthy: 'error',
  unknown: 'default',
};

export function useProviderDetail(id: string | null) {
  return useQuery({
    queryKey: useOrgKey('providers', id),
    queryFn: () => api.get<Provider>(`/api/v1/providers/${id}`),
    enabled: id !== null,
    refetchInterval: 15_000,
  });
}

export function HealthBadge({ health }: { health?: ProviderHealth }) {
  const t = useT();
  const status = health?.status ?? 'unknown';
  return <Badge status={STATUS[status]} text={t(`providers.health.${status}`)} />;
}

/** The health of one row, fetched with the provider's detail. */
export function RowHealth({ id }: { id: string }) {
  const detail = useProviderDetail(id);
  if (detail.isLoading) return <Spin size="small" />;
  return <HealthBadge health={detail.data?.health} />;
}

const BREAKER_COLORS = { closed: 'green', half_open: 'orange', open: 'red' } as const;

export function HealthDrawer({ id, onClose }: { id: string | null; onClose(): void }) {
  const t = useT();
  const detail = useProviderDetail(id);
  const p = detail.data;
  const h = p?.health;
  return (
    <Drawer
      open={id !== null}
      onClose={onClose}
      width={640}
      title={t('providers.health_of', { name: p?.name ?? '' })}
      destroyOnHidden
    >
      {detail.error ? <ErrorAlert error={detail.error} onRetry={() => detail.refetch()} /> : null}
      {detail.isLoading ? <Spin /> : null}
      {p ? (
        <Space direction="vertical" size={20} style={{ width: '100%' }}>
          <Descriptions
            bordered
            size="small"
            column={1}
            items={[
              { key: 'status', label: t('common.status'), children: <HealthBadge health={h} /> },
              { key: 'type', label: t('providers.type'), children: t(`providers.type.${p.type}`) },
              {
                key: 'url',
                label: t('providers.base_url'),
                children: <span className="maas-mono">{p.base_url}</span>,
              },
              {
                key: 'err',
                label: t('providers.error_rate'),
                children: h
                  ? `${formatPercent(h.error_rate)} (${t('providers.requests_in_window', { n: h.requests, s: h.window_s })})`
                  : '—',
              },
              {
                key: 'probe',
                label: t('providers.last_probe'),
                children: h?.last_probe ? (
                  <Space direction="vertical" size={0}>
                    <span>
                      {h.last_probe.ok ? (
                        <Tag color="green">OK</Tag>
                      ) : (
                        <Tag color="red">{t('providers.failed')}</Tag>
                      )}
                      {formatMs(h.last_probe.latency_ms)} · {fromNow(h.last_probe.at)}
                    </span>
                    {h.last_probe.error ? (
                      <Typography.Text type="danger">{h.last_probe.error}</Typography.Text>
                    ) : null}
                  </Space>
                ) : (
                  t('providers.never_probed')
                ),
              },
              { key: 'timeout', label: t('providers.timeout'), children: formatMs(p.timeout_ms) },
              { key: 'pool', label: t('providers.max_connections'), children: p.max_connections },
              {
                key: 'key',
                label: t('providers.api_key'),
                children: p.has_api_key ? t('providers.key_stored') : t('providers.key_none'),
              },
            ]}
          />
          <div>
            <Typography.Title level={5}>{t('providers.targets')}</Typography.Title>
            <Table<TargetState>
              size="small"
              rowKey="upstream_model"
              pagination={false}
              dataSource={h?.targets ?? []}
              locale={{ emptyText: t('providers.targets_empty') }}
              columns={[
                {
                  title: t('providers.upstream_model'),
                  dataIndex: 'upstream_model',
                  render: (v: string) => <span className="maas-mono">{v}</span>,
                },
                {
                  title: t('providers.breaker'),
                  dataIndex: 'state',
                  render: (s: TargetState['state']) => (
                    <Tag color={BREAKER_COLORS[s]}>{t(`providers.breaker.${s}`)}</Tag>
                  ),
                },
                {
                  title: t('providers.error_rate'),
                  dataIndex: 'error_rate',
                  render: (v: number) => formatPercent(v),
                },
                { title: t('providers.in_flight'), dataIndex: 'outstanding' },
                {
                  title: t('providers.opened_at'),
                  dataIndex: 'opened_at',
                  render: (v: string | null) => (v ? formatDateTime(v) : '—'),
                },
              ]}
            />
          </div>
        </Space>
      ) : null}
    </Drawer>
  );
}
