import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useQuery } from '@tanstack/react-query';
import { Button, Popconfirm, Progress, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { useApiMutation } from '../api/mutation.ts';
import { useNames, useOrgKey } from '../api/queries.ts';
import { useAuth } from '../auth/auth.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { fromNow } from '../lib/format.ts';
import { fleetApi, REPLICA_STATE_COLOR, type Replica } from './fleet/fleet-api.ts';
import { ReplicaDrawer } from './replicas/replica-drawer.tsx';

/** Replicas of the org's deployments: state and reason, node, restarts; details with timeline and live logs; restart. */
export default function ReplicasPage() {
  const t = useT();
  const { me, can } = useAuth();
  const canWrite = can('write');
  const [params, setParams] = useSearchParams();
  const deploymentId = params.get('deployment') ?? undefined;
  const [openId, setOpenId] = useState<string | null>(null);
  const deployments = useQuery({ queryKey: useOrgKey('deployments'), queryFn: fleetApi.deployments });
  const nodes = useQuery({
    queryKey: useOrgKey('nodes'),
    queryFn: fleetApi.nodes,
    enabled: me?.user?.is_platform_admin ?? false,
  });
  const list = useQuery({
    queryKey: useOrgKey('replicas', deploymentId ?? 'all'),
    queryFn: () => fleetApi.replicas(deploymentId),
    refetchInterval: 2_000,
  });
  const depName = useNames(deployments.data);
  const nodeName = useNames(nodes.data);
  const restart = useApiMutation(fleetApi.restartReplica, {
    invalidate: ['replicas', 'deployments'],
    success: t('rep.restarted'),
  });

  const columns: ProColumns<Replica>[] = [
    {
      title: t('rep.replica'),
      dataIndex: 'id',
      render: (_, r) => (
        <Space direction="vertical" size={0}>
          <Typography.Link className="maas-mono" onClick={() => setOpenId(r.id)} data-testid="rep-open">
            {r.id}
          </Typography.Link>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {depName(r.deployment_id)} · v{r.version}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t('common.status'),
      key: 'state',
      render: (_, r) => (
        <Space direction="vertical" size={2} style={{ maxWidth: 420 }}>
          <Space size={4}>
            <Tag color={REPLICA_STATE_COLOR[r.state]} data-testid={`rep-state-${r.state}`}>
              {t(`rep.state.${r.state}`)}
            </Tag>
            {r.desired === 'stop' && r.state !== 'stopping' && r.state !== 'stopped' ? (
              <Tag>{t('rep.leaving')}</Tag>
            ) : null}
          </Space>
          {r.progress ? (
            <Progress
              size="small"
              percent={r.progress.total ? Math.round((r.progress.bytes / r.progress.total) * 100) : 0}
            />
          ) : null}
          {r.reason ? (
            <Typography.Text
              type={r.state === 'failed' ? 'danger' : 'secondary'}
              style={{ fontSize: 12 }}
              data-testid="rep-reason"
            >
              {r.reason}
            </Typography.Text>
          ) : null}
        </Space>
      ),
    },
    {
      title: t('rep.node'),
      dataIndex: 'node_id',
      render: (_, r) => <span data-testid="rep-node">{nodeName(r.node_id)}</span>,
    },
    { title: t('rep.restarts'), dataIndex: 'restarts', align: 'right' },
    { title: t('rep.started'), dataIndex: 'started_at', render: (_, r) => fromNow(r.started_at) },
    {
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      render: (_, r) => (
        <Space size={0}>
          <Button type="link" size="small" onClick={() => setOpenId(r.id)}>
            {t('rep.logs')}
          </Button>
          {canWrite && r.desired === 'run' ? (
            <Popconfirm
              title={t('rep.restart_title')}
              description={t('rep.restart_hint')}
              okButtonProps={{ 'data-testid': 'rep-restart-confirm' }}
              onConfirm={() => restart.mutateAsync(r.id)}
            >
              <Button type="link" size="small" data-testid="rep-restart">
                {t('rep.restart')}
              </Button>
            </Popconfirm>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <Page id="replicas" title={t('nav.replicas')} subTitle={t('rep.subtitle')}>
      {list.error ? <ErrorAlert error={list.error} onRetry={() => list.refetch()} /> : null}
      <div data-testid="rep-table">
        <ProTable<Replica>
          rowKey="id"
          columns={columns}
          dataSource={list.data ?? []}
          loading={list.isLoading}
          search={false}
          scroll={{ x: 'max-content' }}
          options={{ reload: () => list.refetch(), density: true, setting: true }}
          pagination={{ pageSize: 20 }}
          headerTitle={
            <Select
              allowClear
              placeholder={t('rep.all_deployments')}
              style={{ width: 260 }}
              value={deploymentId}
              onChange={(v?: string) => setParams(v ? { deployment: v } : {})}
              options={(deployments.data ?? []).map((d) => ({ value: d.id, label: d.name }))}
              data-testid="rep-filter"
            />
          }
          locale={{ emptyText: <EmptyState title={t('rep.empty')} /> }}
        />
      </div>
      <ReplicaDrawer replicaId={openId} nodeName={nodeName} onClose={() => setOpenId(null)} />
    </Page>
  );
}
