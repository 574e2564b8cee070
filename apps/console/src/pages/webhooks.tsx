import {
  DeleteOutlined,
  EditOutlined,
  HistoryOutlined,
  PlusOutlined,
  RetweetOutlined,
  SendOutlined,
} from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { Badge, Button, Popconfirm, Space, Switch, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useAuth } from '../auth/auth.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime, fromNow } from '../lib/format.ts';
import { DeliveriesDrawer } from './webhooks/deliveries-drawer.tsx';
import { EndpointFormModal } from './webhooks/endpoint-form.tsx';
import {
  type EndpointWithSecret,
  useWebhookEndpoints,
  type WebhookEndpoint,
} from './webhooks/webhook-api.ts';
import { WebhookSecretModal } from './webhooks/webhook-secret-modal.tsx';

export default function WebhooksPage() {
  const t = useT();
  const { can } = useAuth();
  const canWrite = can('write');
  const endpoints = useWebhookEndpoints();
  const [form, setForm] = useState<{ editing: WebhookEndpoint | null } | null>(null);
  const [issued, setIssued] = useState<{ endpoint: EndpointWithSecret; rotated: boolean } | null>(null);
  const [deliveriesOf, setDeliveriesOf] = useState<WebhookEndpoint | null>(null);
  const invalidate = ['webhook-endpoints', 'webhook-deliveries'];
  const toggle = useApiMutation(
    (e: WebhookEndpoint) => api.patch(`/api/v1/webhook-endpoints/${e.id}`, { enabled: !e.enabled }),
    { invalidate },
  );
  const rotate = useApiMutation(
    (id: string) => api.post<EndpointWithSecret>(`/api/v1/webhook-endpoints/${id}/rotate-secret`, {}),
    { invalidate, onSuccess: (endpoint) => setIssued({ endpoint, rotated: true }) },
  );
  const test = useApiMutation((id: string) => api.post(`/api/v1/webhook-endpoints/${id}/test`), {
    success: t('webhooks.test_sent'),
    invalidate,
  });
  const remove = useApiMutation((id: string) => api.del(`/api/v1/webhook-endpoints/${id}`), {
    success: t('webhooks.deleted'),
    invalidate,
  });

  const columns: ProColumns<WebhookEndpoint>[] = [
    {
      title: t('webhooks.url'),
      dataIndex: 'url',
      render: (_, e) => (
        <Space direction="vertical" size={0}>
          <Typography.Text strong className="maas-mono" style={{ fontSize: 13 }}>
            {e.url}
          </Typography.Text>
          {e.description ? <Typography.Text type="secondary">{e.description}</Typography.Text> : null}
        </Space>
      ),
    },
    {
      title: t('webhooks.events'),
      dataIndex: 'events',
      render: (_, e) => (
        <Space size={[0, 4]} wrap style={{ maxWidth: 240 }}>
          {e.events.map((ev) => (
            <Tag key={ev} className="maas-mono" color={ev.startsWith('batch.') ? 'blue' : 'default'}>
              {ev}
            </Tag>
          ))}
        </Space>
      ),
    },
    {
      title: t('common.status'),
      dataIndex: 'enabled',
      render: (_, e) => (
        <Space direction="vertical" size={0} style={{ whiteSpace: 'nowrap' }}>
          <Space>
            {canWrite ? (
              <Switch
                size="small"
                checked={e.enabled}
                loading={toggle.isPending && toggle.variables?.id === e.id}
                onChange={() => toggle.mutate(e)}
                data-testid="webhook-enabled"
              />
            ) : null}
            <Badge
              status={e.enabled ? 'success' : 'default'}
              text={e.enabled ? t('webhooks.enabled') : t('webhooks.disabled')}
            />
          </Space>
          {!e.enabled && e.disabled_reason ? (
            <Typography.Text type="danger" style={{ fontSize: 12 }}>
              {e.disabled_reason}
            </Typography.Text>
          ) : null}
          {e.previous_secret_expires_at ? (
            <Tooltip title={formatDateTime(e.previous_secret_expires_at)}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('webhooks.grace_until', { when: fromNow(e.previous_secret_expires_at) })}
              </Typography.Text>
            </Tooltip>
          ) : null}
        </Space>
      ),
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, e) => formatDateTime(e.created_at),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      render: (_, e) => (
        <Space size={0} style={{ whiteSpace: 'nowrap' }}>
          <Button
            type="link"
            size="small"
            icon={<HistoryOutlined />}
            onClick={() => setDeliveriesOf(e)}
            data-testid="webhook-deliveries"
          >
            {t('webhooks.deliveries')}
          </Button>
          {canWrite ? (
            <>
              <Button
                type="link"
                size="small"
                icon={<SendOutlined />}
                loading={test.isPending && test.variables === e.id}
                onClick={() => test.mutate(e.id)}
                data-testid="webhook-test"
              >
                {t('webhooks.test')}
              </Button>
              <Button
                type="text"
                size="small"
                title={t('action.edit')}
                aria-label={t('action.edit')}
                icon={<EditOutlined />}
                onClick={() => setForm({ editing: e })}
              />
              <Popconfirm
                title={t('webhooks.rotate_title')}
                description={t('webhooks.rotate_hint')}
                okText={t('webhooks.rotate')}
                onConfirm={() => rotate.mutateAsync(e.id)}
              >
                <Button
                  type="text"
                  size="small"
                  title={t('webhooks.rotate')}
                  aria-label={t('webhooks.rotate')}
                  icon={<RetweetOutlined />}
                />
              </Popconfirm>
              <Popconfirm
                title={t('webhooks.delete_title')}
                description={t('webhooks.delete_hint')}
                okText={t('action.delete')}
                okButtonProps={{ danger: true }}
                onConfirm={() => remove.mutateAsync(e.id)}
              >
                <Button
                  type="text"
                  size="small"
                  danger
                  title={t('action.delete')}
                  aria-label={t('action.delete')}
                  icon={<DeleteOutlined />}
                />
              </Popconfirm>
            </>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <Page id="webhooks" title={t('nav.webhooks')} subTitle={t('webhooks.subtitle')}>
      {endpoints.error ? <ErrorAlert error={endpoints.error} onRetry={() => endpoints.refetch()} /> : null}
      <ProTable<WebhookEndpoint>
        rowKey="id"
        columns={columns}
        dataSource={endpoints.data ?? []}
        loading={endpoints.isLoading}
        search={false}
        scroll={{ x: 'max-content' }}
        options={{ reload: () => endpoints.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 10 }}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="new"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setForm({ editing: null })}
                  data-testid="webhook-create"
                >
                  {t('webhooks.new')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('webhooks.empty')}
              hint={canWrite ? t('webhooks.empty_hint') : t('common.ask_operator')}
            />
          ),
        }}
      />
      <EndpointFormModal
        open={form !== null}
        editing={form?.editing ?? null}
        onClose={() => setForm(null)}
        onCreated={(endpoint) => {
          setForm(null);
          setIssued({ endpoint, rotated: false });
        }}
      />
      <WebhookSecretModal
        issued={issued?.endpoint ?? null}
        rotated={issued?.rotated ?? false}
        onClose={() => setIssued(null)}
      />
      <DeliveriesDrawer endpoint={deliveriesOf} onClose={() => setDeliveriesOf(null)} />
    </Page>
  );
}
