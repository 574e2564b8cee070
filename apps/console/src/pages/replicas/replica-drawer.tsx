import { useQuery } from '@tanstack/react-query';
import { Badge, Descriptions, Drawer, Space, Tag, Timeline, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { formatBytes } from '../../lib/gateway-files.ts';
import { fleetApi, REPLICA_STATE_COLOR, type Replica, type ReplicaState } from '../fleet/fleet-api.ts';

interface Step {
  state: ReplicaState | 'created';
  at: string;
  reason: string | null;
}

/**
 * The replica's states as this page saw them change (the API keeps the current state and its
 * times, not a history): created, each state observed while polling, with its reason.
 */
function useTimeline(replica: Replica | undefined): Step[] {
  const [timeline, setTimeline] = useState<{ id: string | null; steps: Step[] }>({ id: null, steps: [] });
  useEffect(() => {
    if (!replica) return;
    setTimeline((prev) => {
      const base: Step[] =
        prev.id === replica.id
          ? prev.steps
          : [
              { state: 'created', at: replica.created_at, reason: null },
              ...(replica.started_at && replica.state !== 'running'
                ? [{ state: 'running' as const, at: replica.started_at, reason: null }]
                : []),
            ];
      const last = base.at(-1);
      if (last && last.state === replica.state && last.reason === replica.reason)
        return { id: replica.id, steps: base };
      const at = replica.state === 'running' && replica.started_at ? replica.started_at : replica.updated_at;
      return { id: replica.id, steps: [...base, { state: replica.state, at, reason: replica.reason }] };
    });
  }, [replica]);
  return timeline.steps;
}

/** One replica: its state timeline and its runtime log, followed live. */
export function ReplicaDrawer({
  replicaId,
  nodeName,
  onClose,
}: {
  replicaId: string | null;
  nodeName(id: string | null): string;
  onClose(): void;
}) {
  const t = useT();
  const replica = useQuery({
    queryKey: ['replica', replicaId],
    queryFn: () => fleetApi.replica(replicaId!),
    enabled: replicaId !== null,
    refetchInterval: 2_000,
  });
  const logs = useQuery({
    queryKey: ['replica-logs', replicaId],
    queryFn: () => fleetApi.replicaLogs(replicaId!, 500),
    enabled: replicaId !== null,
    refetchInterval: 2_000,
  });
  const steps = useTimeline(replica.data ?? undefined);
  const logBox = useRef<HTMLPreElement>(null);
  const lines = logs.data?.lines ?? [];
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when new lines arrive
  useEffect(() => {
    logBox.current?.scrollTo({ top: logBox.current.scrollHeight });
  }, [lines.length]);
  const r = replica.data;
  return (
    <Drawer open={replicaId !== null} onClose={onClose} width={760} title={replicaId} destroyOnHidden>
      {r ? (
        <Space direction="vertical" size={16} style={{ width: '100%' }} data-testid="rep-drawer">
          <Descriptions size="small" column={2} bordered>
            <Descriptions.Item label={t('common.status')}>
              <Tag color={REPLICA_STATE_COLOR[r.state]}>{t(`rep.state.${r.state}`)}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label={t('rep.node')}>{nodeName(r.node_id)}</Descriptions.Item>
            <Descriptions.Item label={t('dep.version')}>
              v{r.version} (rev {r.revision})
            </Descriptions.Item>
            <Descriptions.Item label={t('rep.endpoint')}>
              <span className="maas-mono">{r.endpoint ?? '—'}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('rep.memory')}>{formatBytes(r.memory_bytes)}</Descriptions.Item>
            <Descriptions.Item label={t('rep.restarts')}>{r.restarts}</Descriptions.Item>
          </Descriptions>
          <div>
            <Typography.Title level={5}>{t('rep.timeline')}</Typography.Title>
            <Timeline
              data-testid="rep-timeline"
              items={steps.map((s) => ({
                color: s.state === 'failed' ? 'red' : s.state === 'running' ? 'green' : 'blue',
                children: (
                  <Space direction="vertical" size={0}>
                    <Typography.Text strong>
                      {s.state === 'created' ? t('rep.created') : t(`rep.state.${s.state}`)}
                    </Typography.Text>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {formatDateTime(s.at)}
                    </Typography.Text>
                    {s.reason ? <Typography.Text style={{ fontSize: 12 }}>{s.reason}</Typography.Text> : null}
                  </Space>
                ),
              }))}
            />
          </div>
          <div>
            <Space>
              <Typography.Title level={5} style={{ margin: 0 }}>
                {t('rep.logs')}
              </Typography.Title>
              <Badge status="processing" text={t('rep.logs_live')} />
            </Space>
            <pre
              ref={logBox}
              className="maas-mono"
              data-testid="rep-logs"
              style={{
                maxHeight: 360,
                overflow: 'auto',
                fontSize: 12,
                padding: 12,
                borderRadius: 8,
                background: 'rgba(127,127,127,0.08)',
                whiteSpace: 'pre-wrap',
              }}
            >
              {lines.length ? lines.join('\n') : t('rep.logs_empty')}
            </pre>
          </div>
        </Space>
      ) : null}
    </Drawer>
  );
}
