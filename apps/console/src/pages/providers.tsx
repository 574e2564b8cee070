import {
  ApiOutlined,
  CloudServerOutlined,
  DeleteOutlined,
  EditOutlined,
  HeartOutlined,
  PlusOutlined,
} from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { App, Button, Popconfirm, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useProviders } from '../api/queries.ts';
import type { ProbeResult, Provider } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert, FeatureUnavailable, isMissingRoute } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime, formatMs } from '../lib/format.ts';
import { ProviderForm } from './providers/provider-form.tsx';
import { HealthDrawer, RowHealth } from './providers/provider-health.tsx';

export default function ProvidersPage() {
  const t = useT();
  const { can } = useAuth();
  const canWrite = can('write');
  const { modal, message } = App.useApp();
  const errorText = useErrorText();
  const providers = useProviders();
  const [form, setForm] = useState<{ editing: Provider | null } | null>(null);
  const [healthOf, setHealthOf] = useState<string | null>(null);
  const [testing, setTesting] = useState<string | null>(null);
  const remove = useApiMutation((id: string) => api.del(`/api/v1/providers/${id}`), {
    success: t('providers.deleted'),
    invalidate: ['providers'],
  });

  const test = async (p: Provider) => {
    setTesting(p.id);
    try {
      const r = await api.post<ProbeResult>(`/api/v1/providers/${p.id}/test`, {});
      const body = (
        <Space direction="vertical" data-testid="provider-test-result">
          <span>
            {t('providers.latency')}: <b>{formatMs(r.latency_ms)}</b>
            {r.status_code ? ` · HTTP ${r.status_code}` : ''}
          </span>
          {r.error ? <Typography.Text type="danger">{r.error}</Typography.Text> : null}
          {r.models?.length ? (
            <div>
              <Typography.Text type="secondary">
                {t('providers.models_listed', { n: r.models.length })}
              </Typography.Text>
              <div style={{ marginTop: 6 }}>
                {r.models.slice(0, 30).map((m) => (
                  <Tag key={m} className="maas-mono">
                    {m}
                  </Tag>
                ))}
              </div>
            </div>
          ) : null}
        </Space>
      );
      (r.ok ? modal.success : modal.error)({
        title: r.ok ? t('providers.test_ok', { name: p.name }) : t('providers.test_failed', { name: p.name }),
        content: body,
        width: 520,
      });
    } catch (err) {
      message.error(errorText(err));
    } finally {
      setTesting(null);
    }
  };

  if (isMissingRoute(providers.error)) {
    return (
      <Page id="providers" title={t('nav.providers')}>
        <FeatureUnavailable feature={t('nav.providers')} />
      </Page>
    );
  }

  const columns: ProColumns<Provider>[] = [
    {
      title: t('common.name'),
      dataIndex: 'name',
      render: (_, p) => (
        <Space direction="vertical" size={0}>
          <Typography.Text strong>{p.name}</Typography.Text>
          <Typography.Text
            type="secondary"
            className="maas-mono"
            style={{ fontSize: 12, whiteSpace: 'nowrap' }}
          >
            {p.base_url}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t('providers.type'),
      dataIndex: 'type',
      width: 180,
      render: (_, p) => <Tag>{t(`providers.type.${p.type}`)}</Tag>,
    },
    { title: t('providers.health'), key: 'health', width: 140, render: (_, p) => <RowHealth id={p.id} /> },
    {
      title: t('providers.api_key'),
      dataIndex: 'has_api_key',
      width: 120,
      render: (_, p) =>
        p.has_api_key ? (
          <Tag color="green">{t('providers.key_stored')}</Tag>
        ) : (
          <Tag>{t('providers.key_none')}</Tag>
        ),
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, p) => formatDateTime(p.created_at),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 390,
      render: (_, p) => (
        <Space size={0}>
          {canWrite ? (
            <Button
              type="link"
              size="small"
              icon={<ApiOutlined />}
              loading={testing === p.id}
              onClick={() => test(p)}
              data-testid={`provider-test-${p.name}`}
            >
              {t('providers.test')}
            </Button>
          ) : null}
          <Button type="link" size="small" icon={<HeartOutlined />} onClick={() => setHealthOf(p.id)}>
            {t('providers.health')}
          </Button>
          {canWrite ? (
            <>
              <Button
                type="link"
                size="small"
                icon={<EditOutlined />}
                onClick={() => setForm({ editing: p })}
              >
                {t('action.edit')}
              </Button>
              <Popconfirm
                title={t('providers.delete_title', { name: p.name })}
                description={t('providers.delete_hint')}
                okButtonProps={{ danger: true }}
                onConfirm={() => remove.mutateAsync(p.id)}
              >
                <Button type="link" size="small" danger icon={<DeleteOutlined />} />
              </Popconfirm>
            </>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <Page id="providers" title={t('nav.providers')} subTitle={t('providers.subtitle')}>
      {providers.error ? <ErrorAlert error={providers.error} onRetry={() => providers.refetch()} /> : null}
      <ProTable<Provider>
        rowKey="id"
        columns={columns}
        dataSource={providers.data}
        loading={providers.isLoading}
        search={false}
        options={{ reload: () => providers.refetch(), density: true, setting: false }}
        pagination={{ pageSize: 10 }}
        headerTitle={t('providers.list')}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="new"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setForm({ editing: null })}
                  data-testid="provider-create"
                >
                  {t('providers.new')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('providers.empty')}
              hint={canWrite ? t('providers.empty_hint') : t('common.ask_operator')}
              action={
                canWrite ? (
                  <Button
                    type="primary"
                    icon={<CloudServerOutlined />}
                    onClick={() => setForm({ editing: null })}
                  >
                    {t('providers.new')}
                  </Button>
                ) : undefined
              }
            />
          ),
        }}
      />
      <ProviderForm
        open={form !== null}
        editing={form?.editing ?? null}
        onClose={() => setForm(null)}
        onSaved={(p, created) => {
          setForm(null);
          if (created) void test(p);
        }}
      />
      <HealthDrawer id={healthOf} onClose={() => setHealthOf(null)} />
    </Page>
  );
}
