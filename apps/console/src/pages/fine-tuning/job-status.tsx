import { Progress, Space, Tag, Typography } from 'antd';
import { useT } from '../../i18n/index.tsx';
import type { FineTuningJob, JobStatus } from '../../lib/gateway-fine-tuning.ts';

const COLORS: Record<JobStatus, string> = {
  validating_files: 'default',
  queued: 'default',
  running: 'processing',
  paused: 'warning',
  succeeded: 'success',
  failed: 'error',
  cancelled: 'default',
};

export function JobStatusTag({ status }: { status: JobStatus }) {
  const t = useT();
  return (
    <Tag color={COLORS[status]} data-testid="ft-status" data-status={status}>
      {t(`ft.status.${status}`)}
    </Tag>
  );
}

/** Steps done of all steps, live while the trainer runs; "serving and checking" after it. */
export function JobProgress({ job }: { job: FineTuningJob }) {
  const t = useT();
  const p = job.maas.progress;
  if (!p || p.total_steps === 0) return <Typography.Text type="secondary">—</Typography.Text>;
  const done = job.status === 'succeeded';
  return (
    <Space direction="vertical" size={0} style={{ minWidth: 160 }}>
      <Progress
        percent={done ? 100 : Math.floor((100 * p.step) / p.total_steps)}
        size="small"
        status={job.status === 'failed' ? 'exception' : job.status === 'running' ? 'active' : undefined}
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="ft-steps">
        {p.publishing && job.status === 'running'
          ? t('ft.publishing')
          : t('ft.steps', { step: p.step, total: p.total_steps })}
      </Typography.Text>
    </Space>
  );
}
