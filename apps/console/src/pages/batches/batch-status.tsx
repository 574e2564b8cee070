import { Progress, Space, Tag, Tooltip, Typography } from 'antd';
import { useT } from '../../i18n/index.tsx';
import type { Batch, BatchStatus } from '../../lib/gateway-files.ts';

const COLORS: Record<BatchStatus, string> = {
  validating: 'default',
  in_progress: 'processing',
  finalizing: 'processing',
  completed: 'success',
  failed: 'error',
  expired: 'warning',
  cancelling: 'warning',
  cancelled: 'default',
};

export function BatchStatusTag({ status }: { status: BatchStatus }) {
  const t = useT();
  return (
    <Tag color={COLORS[status]} data-testid="batch-status" data-status={status}>
      {t(`batches.status.${status}`)}
    </Tag>
  );
}

/** Lines answered of all lines: green for completed, red for failed, live while the batch runs. */
export function BatchProgress({ batch }: { batch: Batch }) {
  const t = useT();
  const { total, completed, failed } = batch.request_counts;
  const done = completed + failed;
  const running = batch.status === 'in_progress' || batch.status === 'finalizing';
  return (
    <Tooltip title={t('batches.counts', { completed, failed, total })}>
      <Space direction="vertical" size={0} style={{ width: 160 }} data-testid="batch-progress">
        <Progress
          percent={total ? Math.floor((done / total) * 100) : 0}
          success={{ percent: total ? (completed / total) * 100 : 0 }}
          status={running ? 'active' : 'normal'}
          strokeColor={failed > 0 ? '#ff4d4f' : undefined}
          size="small"
          showInfo={false}
        />
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {done} / {total}
          {failed ? ` · ${t('batches.failed_count', { failed })}` : ''}
        </Typography.Text>
      </Space>
    </Tooltip>
  );
}
