import {
  DashboardOutlined,
  KeyOutlined,
  PlusOutlined,
  RetweetOutlined,
  StopOutlined,
} from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { Badge, Button, Popconfirm, Select, Space, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useKeys, useNames, useProjects } from '../api/queries.ts';
import type { ApiKey, IssuedKey } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { LimitsDrawer } from '../components/limits-drawer.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime, fromNow } from '../lib/format.ts';
import { CreateKeyModal, RotateKeyModal } from './keys/key-forms.tsx';
import { SecretModal } from './keys/secret-modal.tsx';

const STATUS_BADGE = { active: 'success', expired: 'warning', revoked: 'error' } as const;

export default function KeysPage() {
  const t = useT();
  const { can } = useAuth();
  const canWrite = can('write');
  const [params, setParams] = useSearchParams();
  const projectFilter = params.get('project') ?? undefined;
  const [statusFilter, setStatusFilter] = useState<string | undefined>('active');
  const keys = useKeys();
  const projects = useProjects();
  const projectName = useNames(projects.data);
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<{ key: IssuedKey; rotated: boolean } | null>(null);
  const [rotating, setRotating] = useState<ApiKey | null>(null);
  const [limitsOf, setLimitsOf] = useState<ApiKey | null>(null);
  const revoke = useApiMutation((id: string) => api.del(`/api/v1/keys/${id}`), {
    success: t('keys.revoked'),
    invalidate: ['keys'],
  });

  const rows = (keys.data ?? []).filter(
    (k) => (!projectFilter || k.project_id === projectFilter) && (!statusFilter || k.status === statusFilter),
  );

  const columns: ProColumns<ApiKey>[] = [
    {
      title: t('common.name'),
      dataIndex: 'name',
      render: (_, k) => (
        <Space direction="vertical" size={0}>
          <Typography.Text strong>{k.name}</Typography.Text>
          <Typography.Text
            type="secondary"
            className="maas-mono"
            style={{ fontSize: 12, whiteSpace: 'nowrap' }}
          >
            {k.prefix}…
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t('keys.project'),
      dataIndex: 'project_id',
      render: (_, k) => <span style={{ whiteSpace: 'nowrap' }}>{projectName(k.project_id)}</span>,
    },
    {
      title: t('keys.scopes'),
      dataIndex: 'scopes',
      render: (_, k) => (
        <Space size={[0, 4]}>
          {k.scopes.map((s) => (
            <Tag key={s} color={s === 'inference' ? 'blue' : s === 'admin:write' ? 'orange' : 'default'}>
              {t(`scope.${s}`)}
            </Tag>
          ))}
        </Space>
      ),
    },
    {
      title: t('keys.models'),
      dataIndex: 'models',
      width: 180,
      ellipsis: true,
      render: (_, k) =>
        k.models ? (
          k.models.join(', ')
        ) : (
          <Typography.Text type="secondary">{t('keys.models_all')}</Typography.Text>
        ),
    },
    {
      title: t('common.status'),
      dataIndex: 'status',
      render: (_, k) => (
        <Space direction="vertical" size={0} style={{ whiteSpace: 'nowrap' }}>
          <Badge status={STATUS_BADGE[k.status]} text={t(`keys.status.${k.status}`)} />
          {k.status === 'active' ? (
            <Tooltip title={k.expires_at ? formatDateTime(k.expires_at) : undefined}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {k.expires_at
                  ? t('keys.expires_in', { when: fromNow(k.expires_at) })
                  : t('keys.never_expires')}
              </Typography.Text>
            </Tooltip>
          ) : null}
          {k.previous_expires_at && new Date(k.previous_expires_at) > new Date() ? (
            <Tooltip title={formatDateTime(k.previous_expires_at)}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('keys.grace_until', { when: fromNow(k.previous_expires_at) })}
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
      render: (_, k) => formatDateTime(k.created_at),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      render: (_, k) => (
        <Space size={0} style={{ whiteSpace: 'nowrap' }}>
          <Button type="link" size="small" icon={<DashboardOutlined />} onClick={() => setLimitsOf(k)}>
            {t('keys.limits')}
          </Button>
          {canWrite && k.status === 'active' ? (
            <>
              <Button type="link" size="small" icon={<RetweetOutlined />} onClick={() => setRotating(k)}>
                {t('keys.rotate')}
              </Button>
              <Popconfirm
                title={t('keys.revoke_title', { name: k.name })}
                description={t('keys.revoke_hint')}
                okText={t('keys.revoke')}
                okButtonProps={{ danger: true }}
                onConfirm={() => revoke.mutateAsync(k.id)}
              >
                <Button type="link" size="small" danger icon={<StopOutlined />}>
                  {t('keys.revoke')}
                </Button>
              </Popconfirm>
            </>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <Page id="keys" title={t('nav.keys')} subTitle={t('keys.subtitle')}>
      {keys.error ? <ErrorAlert error={keys.error} onRetry={() => keys.refetch()} /> : null}
      <ProTable<ApiKey>
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={keys.isLoading}
        search={false}
        scroll={{ x: 'max-content' }}
        options={{ reload: () => keys.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 10, showSizeChanger: true }}
        headerTitle={
          <Space wrap>
            <Select
              allowClear
              placeholder={t('keys.all_projects')}
              value={projectFilter}
              style={{ width: 200 }}
              options={(projects.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
              onChange={(v?: string) => setParams(v ? { project: v } : {})}
            />
            <Select
              allowClear
              placeholder={t('keys.all_statuses')}
              value={statusFilter}
              style={{ width: 150 }}
              options={(['active', 'expired', 'revoked'] as const).map((s) => ({
                value: s,
                label: t(`keys.status.${s}`),
              }))}
              onChange={setStatusFilter}
            />
          </Space>
        }
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="new"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setCreating(true)}
                  data-testid="key-create"
                >
                  {t('keys.new')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={keys.data?.length ? t('keys.empty_filtered') : t('keys.empty')}
              hint={canWrite ? t('keys.empty_hint') : t('common.ask_operator')}
              action={
                canWrite && !keys.data?.length ? (
                  <Button type="primary" icon={<KeyOutlined />} onClick={() => setCreating(true)}>
                    {t('keys.new')}
                  </Button>
                ) : undefined
              }
            />
          ),
        }}
      />
      <CreateKeyModal
        open={creating}
        onOpenChange={setCreating}
        defaultProject={projectFilter}
        onIssued={(key) => setIssued({ key, rotated: false })}
      />
      <RotateKeyModal
        apiKey={rotating}
        onClose={() => setRotating(null)}
        onIssued={(key) => setIssued({ key, rotated: true })}
      />
      <SecretModal issued={issued?.key ?? null} rotated={issued?.rotated} onClose={() => setIssued(null)} />
      <LimitsDrawer
        scope="key"
        scopeId={limitsOf?.id ?? null}
        title={t('keys.limits_of', { name: limitsOf?.name ?? '' })}
        onClose={() => setLimitsOf(null)}
      />
    </Page>
  );
}
