import { Button, Card, Popconfirm, Progress, Space, Tag, Tooltip, Typography } from 'antd';
import { useT } from '../../i18n/index.tsx';
import { fromNow } from '../../lib/format.ts';
import { formatBytes } from '../../lib/gateway-files.ts';
import type { FleetNode, Gpu } from './fleet-api.ts';

const used = (total: number, free: number) => (total > 0 ? Math.round(((total - free) / total) * 100) : 0);

function MemoryBar({
  label,
  total,
  free,
  testId,
}: {
  label: string;
  total: number;
  free: number;
  testId?: string;
}) {
  return (
    <div data-testid={testId}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text style={{ fontSize: 12 }}>{label}</Typography.Text>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {formatBytes(total - free)} / {formatBytes(total)}
        </Typography.Text>
      </Space>
      <Progress percent={used(total, free)} size="small" showInfo={false} />
    </div>
  );
}

function GpuRow({ gpu }: { gpu: Gpu }) {
  const t = useT();
  return (
    <div data-testid="fleet-gpu">
      <MemoryBar label={`GPU ${gpu.index} · ${gpu.name}`} total={gpu.memory_total} free={gpu.memory_free} />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('fleet.gpu_use', {
          pct: gpu.utilization_pct ?? '—',
          temp: gpu.temperature_c ?? '—',
        })}
      </Typography.Text>
    </div>
  );
}

/** One node: health, placement state, CPU/memory/GPU bars, and (platform admins) cordon and drain. */
export function NodeCard({
  node,
  canWrite,
  busy,
  onAction,
}: {
  node: FleetNode;
  canWrite: boolean;
  busy: boolean;
  onAction(action: 'cordon' | 'uncordon' | 'drain'): void;
}) {
  const t = useT();
  const health =
    node.status === 'ready' ? (
      <Tag color="success">{t('fleet.ready')}</Tag>
    ) : (
      <Tag color="error">{t('fleet.unreachable')}</Tag>
    );
  const placement = node.draining ? (
    <Tag color="warning" data-testid="fleet-node-draining">
      {t('fleet.draining')}
    </Tag>
  ) : !node.schedulable ? (
    <Tag color="warning" data-testid="fleet-node-cordoned">
      {t('fleet.cordoned')}
    </Tag>
  ) : (
    <Tag>{t('fleet.schedulable')}</Tag>
  );
  return (
    <Card
      size="small"
      data-testid={`fleet-node-${node.name}`}
      title={
        <Space>
          <Typography.Text strong>{node.name}</Typography.Text>
          {health}
          {placement}
          {node.local ? <Tag>{t('fleet.local')}</Tag> : null}
        </Space>
      }
      extra={
        canWrite ? (
          <Space size={0}>
            {node.schedulable ? (
              <Button size="small" type="link" disabled={busy} onClick={() => onAction('cordon')}>
                {t('fleet.cordon')}
              </Button>
            ) : (
              <Button
                size="small"
                type="link"
                disabled={busy}
                onClick={() => onAction('uncordon')}
                data-testid="fleet-node-uncordon"
              >
                {t('fleet.uncordon')}
              </Button>
            )}
            {node.draining ? null : (
              <Popconfirm
                title={t('fleet.drain_title', { name: node.name })}
                description={t('fleet.drain_hint')}
                okText={t('fleet.drain')}
                okButtonProps={{ danger: true, 'data-testid': 'fleet-node-drain-confirm' }}
                onConfirm={() => onAction('drain')}
              >
                <Button size="small" type="link" danger disabled={busy} data-testid="fleet-node-drain">
                  {t('fleet.drain')}
                </Button>
              </Popconfirm>
            )}
          </Space>
        ) : null
      }
    >
      <Space direction="vertical" style={{ width: '100%' }} size={8}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {node.address} · {node.runtimes.join(', ') || '—'} · {t('fleet.heartbeat')}{' '}
          {fromNow(node.last_heartbeat_at)}
        </Typography.Text>
        {Object.keys(node.labels).length ? (
          <div>
            {Object.entries(node.labels).map(([k, v]) => (
              <Tag key={k} bordered={false}>
                {k}={v}
              </Tag>
            ))}
          </div>
        ) : null}
        {node.cpu ? (
          <Tooltip title={node.cpu.model}>
            <Typography.Text style={{ fontSize: 12 }}>
              {t('fleet.cpu', { cores: node.cpu.cores, load: node.cpu.load1.toFixed(2) })}
            </Typography.Text>
          </Tooltip>
        ) : null}
        {node.memory ? (
          <MemoryBar label={t('fleet.memory')} total={node.memory.total} free={node.memory.free} />
        ) : null}
        {node.gpus.length === 0 ? (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('fleet.no_gpus')}
          </Typography.Text>
        ) : (
          node.gpus.map((g) => <GpuRow key={g.index} gpu={g} />)
        )}
      </Space>
    </Card>
  );
}
