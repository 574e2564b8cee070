import { ApiOutlined, DeleteOutlined, DeploymentUnitOutlined, PlusOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { Button, Popconfirm, Space, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useModels } from '../api/queries.ts';
import type { Model } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { PALETTE } from '../components/chart.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert, FeatureUnavailable, isMissingRoute } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatCompact, formatCost, formatDateTime } from '../lib/format.ts';
import { ModelDrawer, STATUS_COLORS } from './models/model-drawer.tsx';
import { CreateModelModal } from './models/model-form.tsx';

function TrafficBar({ model }: { model: Model }) {
  const total = Object.values(model.traffic).reduce((a, b) => a + b, 0);
  return (
    <Tooltip
      title={model.versions
        .map((v) => `v${v.version}: ${total ? Math.round((v.traffic_weight / total) * 100) : 0}%`)
        .join(' · ')}
    >
      <div
        style={{
          display: 'flex',
          height: 8,
          width: 120,
          borderRadius: 4,
          overflow: 'hidden',
          background: 'rgba(127,127,127,0.15)',
        }}
      >
        {model.versions.map((v, i) =>
          total && v.traffic_weight ? (
            <div
              key={v.id}
              style={{
                width: `${(v.traffic_weight / total) * 100}%`,
                background: PALETTE[i % PALETTE.length],
              }}
            />
          ) : null,
        )}
      </div>
    </Tooltip>
  );
}

export default function ModelsPage() {
  const t = useT();
  const { can } = useAuth();
  const canWrite = can('write');
  const models = useModels();
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const open = models.data?.find((m) => m.id === openId) ?? null;
  const remove = useApiMutation((id: string) => api.del(`/api/v1/models/${id}`), {
    success: t('models.deleted'),
    invalidate: ['models'],
  });

  if (isMissingRoute(models.error)) {
    return (
      <Page id="models" title={t('nav.models')}>
        <FeatureUnavailable feature={t('nav.models')} />
      </Page>
    );
  }

  const columns: ProColumns<Model>[] = [
    {
      title: t('common.name'),
      dataIndex: 'name',
      render: (_, m) => (
        <Space direction="vertical" size={0}>
          <Typography.Link strong onClick={() => setOpenId(m.id)}>
            {m.name}
          </Typography.Link>
          {m.aliases.length ? (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {m.aliases.join(', ')}
            </Typography.Text>
          ) : null}
        </Space>
      ),
    },
    {
      title: t('models.type'),
      dataIndex: 'type',
      width: 110,
      render: (_, m) => <Tag>{t(`models.type.${m.type}`)}</Tag>,
    },
    {
      title: t('models.lifecycle'),
      dataIndex: 'status',
      width: 120,
      render: (_, m) => <Tag color={STATUS_COLORS[m.status]}>{t(`models.status.${m.status}`)}</Tag>,
    },
    {
      title: t('models.versions'),
      key: 'versions',
      width: 200,
      render: (_, m) => (
        <Space>
          {m.versions.length}
          <TrafficBar model={m} />
        </Space>
      ),
    },
    {
      title: t('models.pricing'),
      key: 'pricing',
      render: (_, m) => {
        const live = m.versions.find((v) => v.pricing && v.traffic_weight > 0)?.pricing;
        return live
          ? `${formatCost(live.input_per_million, live.currency)} / ${formatCost(live.output_per_million, live.currency)}`
          : '—';
      },
    },
    {
      title: t('models.context_length'),
      dataIndex: 'context_length',
      width: 120,
      render: (_, m) => formatCompact(m.context_length),
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, m) => formatDateTime(m.created_at),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 150,
      render: (_, m) => (
        <Space size={0}>
          <Button type="link" size="small" onClick={() => setOpenId(m.id)}>
            {t('action.details')}
          </Button>
          {canWrite ? (
            <Popconfirm
              title={t('models.delete_title', { name: m.name })}
              description={t('models.delete_hint')}
              okButtonProps={{ danger: true }}
              onConfirm={() => remove.mutateAsync(m.id)}
            >
              <Button type="link" size="small" danger icon={<DeleteOutlined />} />
            </Popconfirm>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <Page id="models" title={t('nav.models')} subTitle={t('models.subtitle')}>
      {models.error ? <ErrorAlert error={models.error} onRetry={() => models.refetch()} /> : null}
      <ProTable<Model>
        rowKey="id"
        columns={columns}
        dataSource={models.data}
        loading={models.isLoading}
        search={false}
        options={{ reload: () => models.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 10 }}
        headerTitle={t('models.list')}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="new"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setCreating(true)}
                  data-testid="model-create"
                >
                  {t('models.new')}
                </Button>,
                <Link key="deploy" to="/deployments?deploy=" data-testid="model-deploy-fleet">
                  <Button icon={<DeploymentUnitOutlined />}>{t('dep.deploy_from_registry')}</Button>
                </Link>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('models.empty')}
              hint={canWrite ? t('models.empty_hint') : t('common.ask_operator')}
              action={
                canWrite ? (
                  <Button type="primary" icon={<ApiOutlined />} onClick={() => setCreating(true)}>
                    {t('models.new')}
                  </Button>
                ) : undefined
              }
            />
          ),
        }}
      />
      <CreateModelModal
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(m) => {
          setCreating(false);
          setOpenId(m.id);
        }}
      />
      <ModelDrawer model={open} canWrite={canWrite} onClose={() => setOpenId(null)} />
    </Page>
  );
}
