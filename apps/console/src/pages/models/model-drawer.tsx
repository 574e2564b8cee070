import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { App, Button, Descriptions, Drawer, Space, Steps, Table, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useNames, useProviders } from '../../api/queries.ts';
import { MODEL_STATUSES, type Model, type ModelStatus, type ModelVersion } from '../../api/types.ts';
import { useT } from '../../i18n/index.tsx';
import { formatCost, formatDateTime, formatNumber } from '../../lib/format.ts';
import { PriceBook } from './price-book.tsx';
import { TrafficSplit } from './traffic-split.tsx';
import { VersionForm } from './version-form.tsx';

export const STATUS_COLORS: Record<ModelStatus, string> = {
  active: 'green',
  deprecated: 'orange',
  retired: 'default',
};

function Lifecycle({ model, canWrite }: { model: Model; canWrite: boolean }) {
  const t = useT();
  const { modal } = App.useApp();
  const setStatus = useApiMutation(
    (status: ModelStatus) => api.patch(`/api/v1/models/${model.id}`, { status }),
    {
      success: t('models.status_changed'),
      invalidate: ['models'],
    },
  );
  const current = MODEL_STATUSES.indexOf(model.status);
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={12}>
      <Steps
        size="small"
        current={current}
        status={model.status === 'retired' ? 'finish' : 'process'}
        items={MODEL_STATUSES.map((s) => ({
          title: t(`models.status.${s}`),
          description: t(`models.status_hint.${s}`),
        }))}
      />
      {canWrite ? (
        <Space wrap>
          {MODEL_STATUSES.filter((s) => s !== model.status).map((s) => (
            <Button
              key={s}
              danger={s === 'retired'}
              onClick={() =>
                modal.confirm({
                  title: t('models.move_to', { status: t(`models.status.${s}`) }),
                  content: t(`models.move_hint.${s}`),
                  okButtonProps: { danger: s === 'retired' },
                  onOk: () => setStatus.mutateAsync(s),
                })
              }
            >
              {t('models.move_to', { status: t(`models.status.${s}`) })}
            </Button>
          ))}
        </Space>
      ) : null}
    </Space>
  );
}

export function ModelDrawer({
  model,
  canWrite,
  onClose,
}: {
  model: Model | null;
  canWrite: boolean;
  onClose(): void;
}) {
  const t = useT();
  const providers = useProviders();
  const providerName = useNames(providers.data);
  const [versionForm, setVersionForm] = useState<{ editing: ModelVersion | null } | null>(null);
  if (!model) return <Drawer open={false} />;
  const versionColumns = [
    { title: t('models.version'), dataIndex: 'version', render: (v: string) => <Tag>v{v}</Tag> },
    {
      title: t('models.targets'),
      dataIndex: 'targets',
      render: (targets: ModelVersion['targets']) => (
        <Space direction="vertical" size={0}>
          {targets.map((x) => (
            <span key={`${x.provider_id}/${x.upstream_model}`} className="maas-mono" style={{ fontSize: 12 }}>
              {providerName(x.provider_id)} → {x.upstream_model}{' '}
              <Typography.Text type="secondary">
                (w{x.weight}, p{x.priority})
              </Typography.Text>
            </span>
          ))}
        </Space>
      ),
    },
    {
      title: t('models.pricing'),
      dataIndex: 'pricing',
      render: (p: ModelVersion['pricing']) =>
        p
          ? `${formatCost(p.input_per_million, p.currency)} / ${formatCost(p.output_per_million, p.currency)}`
          : '—',
    },
    { title: t('models.traffic'), dataIndex: 'traffic_weight', render: (w: number) => formatNumber(w) },
    { title: t('common.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v) },
    ...(canWrite
      ? [
          {
            title: '',
            key: 'e',
            render: (_: unknown, v: ModelVersion) => (
              <Button
                type="link"
                size="small"
                icon={<EditOutlined />}
                onClick={() => setVersionForm({ editing: v })}
              />
            ),
          },
        ]
      : []),
  ];
  return (
    <Drawer
      open
      onClose={onClose}
      width={860}
      title={
        <Space>
          {model.name}
          <Tag color={STATUS_COLORS[model.status]}>{t(`models.status.${model.status}`)}</Tag>
        </Space>
      }
      destroyOnHidden
    >
      <Tabs
        items={[
          {
            key: 'overview',
            label: t('models.tab_overview'),
            children: (
              <Space direction="vertical" size={24} style={{ width: '100%' }}>
                <Descriptions
                  bordered
                  size="small"
                  column={2}
                  items={[
                    { key: 'type', label: t('models.type'), children: t(`models.type.${model.type}`) },
                    {
                      key: 'ctx',
                      label: t('models.context_length'),
                      children: model.context_length ? formatNumber(model.context_length) : '—',
                    },
                    {
                      key: 'aliases',
                      label: t('models.aliases'),
                      span: 2,
                      children: model.aliases.length ? model.aliases.map((a) => <Tag key={a}>{a}</Tag>) : '—',
                    },
                    {
                      key: 'desc',
                      label: t('common.description'),
                      span: 2,
                      children: model.description || '—',
                    },
                    {
                      key: 'fallbacks',
                      label: t('models.fallbacks'),
                      span: 2,
                      children: model.fallbacks.length
                        ? model.fallbacks.map((f) => <Tag key={f.model}>{f.model}</Tag>)
                        : '—',
                    },
                    {
                      key: 'params',
                      label: t('models.default_params'),
                      span: 2,
                      children: Object.keys(model.default_params).length ? (
                        <span className="maas-mono">{JSON.stringify(model.default_params)}</span>
                      ) : (
                        '—'
                      ),
                    },
                    {
                      key: 'id',
                      label: 'ID',
                      children: (
                        <Typography.Text copyable className="maas-mono">
                          {model.id}
                        </Typography.Text>
                      ),
                    },
                    {
                      key: 'created',
                      label: t('common.created'),
                      children: formatDateTime(model.created_at),
                    },
                  ]}
                />
                <div>
                  <Typography.Title level={5}>{t('models.lifecycle')}</Typography.Title>
                  <Lifecycle model={model} canWrite={canWrite} />
                </div>
              </Space>
            ),
          },
          {
            key: 'versions',
            label: t('models.tab_versions'),
            children: (
              <Space direction="vertical" style={{ width: '100%' }}>
                {canWrite ? (
                  <Button icon={<PlusOutlined />} onClick={() => setVersionForm({ editing: null })}>
                    {t('models.new_version')}
                  </Button>
                ) : null}
                <Table
                  size="small"
                  rowKey="id"
                  pagination={false}
                  dataSource={model.versions}
                  columns={versionColumns}
                />
              </Space>
            ),
          },
          {
            key: 'traffic',
            label: t('models.tab_traffic'),
            children: <TrafficSplit model={model} canWrite={canWrite} />,
          },
          {
            key: 'pricing',
            label: t('models.tab_pricing'),
            children: <PriceBook model={model} canWrite={canWrite} />,
          },
        ]}
      />
      <VersionForm
        model={model}
        editing={versionForm?.editing ?? null}
        open={versionForm !== null}
        onClose={() => setVersionForm(null)}
      />
    </Drawer>
  );
}
