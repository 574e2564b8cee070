import { RedoOutlined } from '@ant-design/icons';
import { Badge, Button, Drawer, Select, Space, Table, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useAuth } from '../../auth/auth.tsx';
import { EmptyState, ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime, fromNow } from '../../lib/format.ts';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  useDeliveries,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './webhook-api.ts';

const BADGE = { pending: 'processing', succeeded: 'success', failed: 'error' } as const;

/** An endpoint's delivery log: status, attempts, the receiver's answer, the next try; replay. */
export function DeliveriesDrawer({
  endpoint,
  onClose,
}: {
  endpoint: WebhookEndpoint | null;
  onClose(): void;
}) {
  const t = useT();
  const { can } = useAuth();
  const [status, setStatus] = useState<DeliveryStatus | undefined>();
  const deliveries = useDeliveries(endpoint?.id ?? null, status);
  const replay = useApiMutation((id: string) => api.post(`/api/v1/webhook-deliveries/${id}/replay`), {
    success: t('webhooks.replayed'),
    invalidate: ['webhook-deliveries'],
  });

  const columns: ColumnsType<WebhookDelivery> = [
    {
      title: t('webhooks.event_type'),
      dataIndex: 'event_type',
      render: (v: string, d) => (
        <Space direction="vertical" size={0}>
          <Typography.Text className="maas-mono">{v}</Typography.Text>
          <Typography.Text
            type="secondary"
            className="maas-mono"
            style={{ fontSize: 11 }}
            copyable={{ text: d.id }}
          >
            {d.id}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t('common.status'),
      dataIndex: 'status',
      render: (s: DeliveryStatus) => (
        <span data-testid="delivery-status" style={{ whiteSpace: 'nowrap' }}>
          <Badge status={BADGE[s]} text={t(`webhooks.delivery.${s}`)} />
        </span>
      ),
    },
    { title: t('webhooks.attempts'), dataIndex: 'attempts', align: 'right' },
    {
      title: t('webhooks.response'),
      dataIndex: 'response_status',
      render: (v: number | null, d) =>
        v === null ? (
          '—'
        ) : (
          <Tooltip title={d.response_snippet ?? undefined}>
            <Typography.Text type={v >= 200 && v < 300 ? 'success' : 'danger'} className="maas-mono">
              {v}
            </Typography.Text>
          </Tooltip>
        ),
    },
    {
      title: t('webhooks.next_attempt'),
      dataIndex: 'next_attempt_at',
      render: (v: string | null) => (v ? <Tooltip title={formatDateTime(v)}>{fromNow(v)}</Tooltip> : '—'),
    },
    {
      title: t('webhooks.last_error'),
      dataIndex: 'last_error',
      ellipsis: { showTitle: true },
      width: 220,
      render: (v: string | null) => v ?? '—',
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      render: (v: string) => <span style={{ whiteSpace: 'nowrap' }}>{formatDateTime(v)}</span>,
    },
    ...(can('write')
      ? [
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_: unknown, d: WebhookDelivery) => (
              <Button
                type="link"
                size="small"
                icon={<RedoOutlined />}
                loading={replay.isPending && replay.variables === d.id}
                onClick={() => replay.mutate(d.id)}
              >
                {t('webhooks.replay')}
              </Button>
            ),
          },
        ]
      : []),
  ];

  return (
    <Drawer
      open={endpoint !== null}
      onClose={onClose}
      width={1080}
      title={t('webhooks.deliveries_of', { url: endpoint?.url ?? '' })}
      extra={
        <Select
          allowClear
          placeholder={t('webhooks.all_statuses')}
          value={status}
          onChange={setStatus}
          style={{ width: 160 }}
          options={DELIVERY_STATUSES.map((s) => ({ value: s, label: t(`webhooks.delivery.${s}`) }))}
        />
      }
      destroyOnHidden
    >
      {deliveries.error ? <ErrorAlert error={deliveries.error} onRetry={() => deliveries.refetch()} /> : null}
      <Table<WebhookDelivery>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={deliveries.data?.data ?? []}
        loading={deliveries.isLoading}
        pagination={{ pageSize: 20 }}
        scroll={{ x: 'max-content' }}
        data-testid="deliveries-table"
        locale={{
          emptyText: (
            <EmptyState title={t('webhooks.no_deliveries')} hint={t('webhooks.no_deliveries_hint')} />
          ),
        }}
      />
    </Drawer>
  );
}
