import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Popconfirm, Row, Space, Statistic, Table, Tag } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import { useAuth } from '../auth/auth.tsx';
import { Chart, useAxisStyle } from '../components/chart.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';
import { type FleetNode, fleetApi, type JoinToken } from './fleet/fleet-api.ts';
import { JoinTokenModal } from './fleet/join-token-modal.tsx';
import { NodeCard } from './fleet/node-card.tsx';

const POLL_MS = 5_000;
const HISTORY = 60;

type Sample = { at: number; values: Record<string, number> };

/** GPU utilisation per GPU, sampled from each poll of the nodes (the agents report it with their heartbeat). */
function useGpuHistory(nodes: FleetNode[] | undefined): Sample[] {
  const [samples, setSamples] = useState<Sample[]>([]);
  const last = useRef<FleetNode[] | undefined>(undefined);
  useEffect(() => {
    if (!nodes || nodes === last.current) return;
    last.current = nodes;
    const values: Record<string, number> = {};
    for (const n of nodes)
      for (const g of n.gpus)
        if (g.utilization_pct !== null) values[`${n.name}/${g.index}`] = g.utilization_pct;
    setSamples((s) => [...s, { at: Date.now(), values }].slice(-HISTORY));
  }, [nodes]);
  return samples;
}

function GpuChart({ samples }: { samples: Sample[] }) {
  const t = useT();
  const axis = useAxisStyle();
  const series = [...new Set(samples.flatMap((s) => Object.keys(s.values)))];
  if (series.length === 0) return <EmptyState title={t('fleet.gpu_chart_empty')} />;
  return (
    <Chart
      testId="fleet-gpu-chart"
      height={220}
      option={{
        xAxis: { type: 'time', ...axis },
        yAxis: {
          type: 'value',
          min: 0,
          max: 100,
          axisLabel: { ...axis.axisLabel, formatter: '{value}%' },
          splitLine: axis.splitLine,
        },
        series: series.map((name) => ({
          name,
          type: 'line',
          showSymbol: false,
          data: samples.filter((s) => name in s.values).map((s) => [s.at, s.values[name]]),
        })),
      }}
    />
  );
}

function JoinTokens({ canWrite }: { canWrite: boolean }) {
  const t = useT();
  const tokens = useQuery({
    queryKey: useOrgKey('join-tokens'),
    queryFn: fleetApi.joinTokens,
    // uses count up as nodes join
    refetchInterval: POLL_MS,
  });
  const revoke = useApiMutation(fleetApi.revokeJoinToken, {
    success: t('fleet.token_revoked'),
    invalidate: ['join-tokens'],
  });
  return (
    <Table<JoinToken>
      rowKey="id"
      size="small"
      loading={tokens.isLoading}
      dataSource={(tokens.data ?? []).filter((x) => !x.revoked_at)}
      pagination={false}
      data-testid="fleet-join-tokens"
      locale={{ emptyText: <EmptyState title={t('fleet.tokens_empty')} /> }}
      columns={[
        { title: t('common.name'), dataIndex: 'name' },
        {
          title: t('fleet.token_prefix'),
          dataIndex: 'prefix',
          render: (p: string) => <span className="maas-mono">{p}…</span>,
        },
        {
          title: t('fleet.token_uses'),
          key: 'uses',
          render: (_, x) => `${x.uses} / ${x.max_uses ?? '∞'}`,
        },
        {
          title: t('fleet.token_expires'),
          dataIndex: 'expires_at',
          render: (v: string | null) => formatDateTime(v),
        },
        ...(canWrite
          ? [
              {
                title: t('common.actions'),
                key: 'actions',
                render: (_: unknown, x: JoinToken) => (
                  <Popconfirm
                    title={t('fleet.token_revoke_title')}
                    onConfirm={() => revoke.mutateAsync(x.id)}
                  >
                    <Button type="link" size="small" danger icon={<DeleteOutlined />}>
                      {t('fleet.token_revoke')}
                    </Button>
                  </Popconfirm>
                ),
              },
            ]
          : []),
      ]}
    />
  );
}

/** The fleet at a glance: nodes with their GPUs and memory, health, cordon and drain, and joining a node. */
export default function FleetPage() {
  const t = useT();
  const { me, can } = useAuth();
  const platformAdmin = me?.user?.is_platform_admin ?? false;
  const canWrite = platformAdmin && can('write');
  const [joining, setJoining] = useState(false);
  const nodes = useQuery({
    queryKey: useOrgKey('nodes'),
    queryFn: fleetApi.nodes,
    enabled: platformAdmin,
    refetchInterval: POLL_MS,
  });
  const replicas = useQuery({
    queryKey: useOrgKey('replicas', 'all'),
    queryFn: () => fleetApi.replicas(),
    refetchInterval: POLL_MS,
  });
  const samples = useGpuHistory(nodes.data);
  const act = useApiMutation(
    ({ id, action }: { id: string; action: 'cordon' | 'uncordon' | 'drain' }) =>
      fleetApi.nodeAction(id, action),
    { invalidate: ['nodes'], success: t('common.saved') },
  );
  const list = nodes.data ?? [];
  const gpus = list.flatMap((n) => n.gpus);
  const running = (replicas.data ?? []).filter((r) => r.state === 'running' && r.desired === 'run').length;
  return (
    <Page
      id="fleet"
      title={t('nav.fleet')}
      subTitle={t('fleet.subtitle')}
      extra={
        canWrite ? (
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => setJoining(true)}
            data-testid="fleet-join"
          >
            {t('fleet.join')}
          </Button>
        ) : null
      }
    >
      {!platformAdmin ? (
        <Alert type="info" showIcon message={t('fleet.only_platform_admins')} style={{ marginBottom: 16 }} />
      ) : null}
      {nodes.error ? <ErrorAlert error={nodes.error} onRetry={() => nodes.refetch()} /> : null}
      <Row gutter={16} style={{ marginBottom: 16 }}>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('fleet.nodes_ready')}
              value={platformAdmin ? list.filter((n) => n.status === 'ready').length : '—'}
              suffix={platformAdmin ? `/ ${list.length}` : undefined}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('fleet.gpus')} value={platformAdmin ? gpus.length : '—'} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('fleet.replicas_running')} value={running} data-testid="fleet-running" />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('fleet.replicas_pending')}
              value={(replicas.data ?? []).filter((r) => r.state === 'pending' && r.desired === 'run').length}
            />
          </Card>
        </Col>
      </Row>
      {platformAdmin ? (
        <Space direction="vertical" size={16} style={{ width: '100%' }}>
          {list.length === 0 && !nodes.isLoading ? (
            <Card>
              <EmptyState title={t('fleet.nodes_empty')} hint={t('fleet.nodes_empty_hint')} />
            </Card>
          ) : (
            <Row gutter={[16, 16]} data-testid="fleet-nodes">
              {list.map((n) => (
                <Col key={n.id} xs={24} lg={12} xxl={8}>
                  <NodeCard
                    node={n}
                    canWrite={canWrite}
                    busy={act.isPending}
                    onAction={(action) => act.mutate({ id: n.id, action })}
                  />
                </Col>
              ))}
            </Row>
          )}
          <Card size="small" title={t('fleet.gpu_chart')}>
            <GpuChart samples={samples} />
          </Card>
          <Card
            size="small"
            title={
              <Space>
                {t('fleet.join_tokens')}
                <Tag bordered={false}>{t('fleet.platform')}</Tag>
              </Space>
            }
          >
            <JoinTokens canWrite={canWrite} />
          </Card>
        </Space>
      ) : null}
      <JoinTokenModal open={joining} onClose={() => setJoining(false)} />
    </Page>
  );
}
