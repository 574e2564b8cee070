import { PlusOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useQuery } from '@tanstack/react-query';
import { Button, Popconfirm, Progress, Space, Tag, Tooltip, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import { useAuth } from '../auth/auth.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { fromNow } from '../lib/format.ts';
import { ChangeDeploymentModal, type ChangeKind } from './deployments/change-deployment-modal.tsx';
import { CreateDeploymentModal } from './deployments/create-deployment-modal.tsx';
import { DeploymentLatency } from './deployments/deployment-latency.tsx';
import { type Deployment, fleetApi, REPLICA_STATE_COLOR, type ReplicaState } from './fleet/fleet-api.ts';

/** Deployments of the org on the fleet: create (with the scheduler's dry run), scale, roll out, canary, roll back. */
export default function DeploymentsPage() {
  const t = useT();
  const { can } = useAuth();
  const canWrite = can('write');
  const [params, setParams] = useSearchParams();
  // one-click deploy from the model registry: /deployments?deploy=<model name>
  const deployName = params.get('deploy');
  const initial = useMemo(() => (deployName ? { model: deployName } : undefined), [deployName]);
  const [creating, setCreating] = useState(false);
  const [changing, setChanging] = useState<{ d: Deployment; kind: ChangeKind } | null>(null);
  const list = useQuery({
    queryKey: useOrgKey('deployments'),
    queryFn: fleetApi.deployments,
    refetchInterval: 3_000,
  });
  const rollback = useApiMutation(fleetApi.rollback, {
    invalidate: ['deployments'],
    success: t('dep.rolled_back'),
  });
  const promote = useApiMutation(fleetApi.promote, {
    invalidate: ['deployments'],
    success: t('dep.promoted'),
  });
  const remove = useApiMutation(fleetApi.removeDeployment, {
    invalidate: ['deployments'],
    success: t('dep.deleting'),
  });
  const closeCreate = () => {
    setCreating(false);
    if (deployName) setParams({}, { replace: true });
  };

  const columns: ProColumns<Deployment>[] = [
    {
      title: t('dep.model'),
      dataIndex: 'name',
      render: (_, d) => (
        <Space direction="vertical" size={0}>
          <Link to={`/replicas?deployment=${d.id}`} data-testid="dep-open">
            <Typography.Text strong>{d.name}</Typography.Text>
          </Link>
          <Typography.Text type="secondary" className="maas-mono" style={{ fontSize: 12 }}>
            {d.runtime} · {d.source}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t('dep.version'),
      key: 'version',
      render: (_, d) => (
        <Space size={4}>
          <Tag>v{d.version}</Tag>
          {d.canary ? (
            <Tag color="purple" data-testid="dep-canary-tag">
              {t('dep.canary_tag', { weight: d.canary.weight })}
            </Tag>
          ) : null}
          {d.status === 'deleting' ? <Tag color="warning">{t('dep.status_deleting')}</Tag> : null}
        </Space>
      ),
    },
    {
      title: t('dep.ready'),
      key: 'ready',
      render: (_, d) => (
        <div style={{ minWidth: 160 }} data-testid={`dep-ready-${d.name}`}>
          <Typography.Text>
            {d.ready_replicas} / {d.replicas}
          </Typography.Text>
          <Progress
            size="small"
            showInfo={false}
            percent={d.replicas ? (d.ready_replicas / d.replicas) * 100 : 100}
            status={d.ready_replicas === d.replicas ? 'success' : 'active'}
          />
        </div>
      ),
    },
    {
      title: t('dep.replica_states'),
      key: 'states',
      render: (_, d) => {
        const pending = d.replica_states.find(
          (r) => r.state === 'pending' && r.desired === 'run' && r.reason,
        );
        const counts = new Map<ReplicaState, number>();
        for (const r of d.replica_states) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
        return (
          <Space direction="vertical" size={2}>
            <Space size={2} wrap>
              {[...counts].map(([s, n]) => (
                <Tag key={s} color={REPLICA_STATE_COLOR[s]} bordered={false}>
                  {t(`rep.state.${s}`)} {n}
                </Tag>
              ))}
            </Space>
            {pending ? (
              <Typography.Text type="warning" style={{ fontSize: 12 }} data-testid="dep-pending-reason">
                {pending.reason}
              </Typography.Text>
            ) : null}
          </Space>
        );
      },
    },
    { title: t('dep.updated'), dataIndex: 'updated_at', render: (_, d) => fromNow(d.updated_at) },
    {
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      render: (_, d) =>
        canWrite && d.status === 'active' ? (
          <Space size={0} style={{ whiteSpace: 'nowrap' }}>
            <Button
              type="link"
              size="small"
              onClick={() => setChanging({ d, kind: 'scale' })}
              data-testid="dep-scale"
            >
              {t('dep.scale')}
            </Button>
            <Button
              type="link"
              size="small"
              onClick={() => setChanging({ d, kind: 'update' })}
              data-testid="dep-update"
            >
              {t('dep.update')}
            </Button>
            {d.canary ? (
              <Button type="link" size="small" onClick={() => promote.mutate(d.id)} data-testid="dep-promote">
                {t('dep.promote')}
              </Button>
            ) : null}
            {d.previous_version ? (
              <Tooltip title={t('dep.rollback_hint', { version: d.previous_version })}>
                <Button
                  type="link"
                  size="small"
                  onClick={() => rollback.mutate(d.id)}
                  data-testid="dep-rollback"
                >
                  {t('dep.rollback')}
                </Button>
              </Tooltip>
            ) : null}
            <Popconfirm
              title={t('dep.delete_title', { name: d.name })}
              description={t('dep.delete_hint')}
              okText={t('action.delete')}
              okButtonProps={{ danger: true }}
              onConfirm={() => remove.mutateAsync(d.id)}
            >
              <Button type="link" size="small" danger>
                {t('action.delete')}
              </Button>
            </Popconfirm>
          </Space>
        ) : null,
    },
  ];

  return (
    <Page id="deployments" title={t('nav.deployments')} subTitle={t('dep.subtitle')}>
      {list.error ? <ErrorAlert error={list.error} onRetry={() => list.refetch()} /> : null}
      <div data-testid="dep-table">
        <ProTable<Deployment>
          rowKey="id"
          columns={columns}
          dataSource={list.data ?? []}
          loading={list.isLoading}
          search={false}
          scroll={{ x: 'max-content' }}
          options={{ reload: () => list.refetch(), density: true, setting: true }}
          pagination={{ pageSize: 20 }}
          toolBarRender={() =>
            canWrite
              ? [
                  <Button
                    key="create"
                    type="primary"
                    icon={<PlusOutlined />}
                    onClick={() => setCreating(true)}
                    data-testid="dep-create"
                  >
                    {t('dep.create')}
                  </Button>,
                ]
              : []
          }
          locale={{
            emptyText: (
              <EmptyState
                title={t('dep.empty')}
                hint={canWrite ? t('dep.empty_hint') : t('common.ask_operator')}
              />
            ),
          }}
        />
      </div>
      {(list.data ?? []).length ? <DeploymentLatency names={(list.data ?? []).map((d) => d.name)} /> : null}
      {canWrite ? (
        <CreateDeploymentModal
          open={creating || deployName !== null}
          initial={initial}
          onClose={closeCreate}
          onCreated={closeCreate}
        />
      ) : null}
      <ChangeDeploymentModal
        deployment={changing?.d ?? null}
        kind={changing?.kind ?? 'scale'}
        onClose={() => setChanging(null)}
      />
    </Page>
  );
}
