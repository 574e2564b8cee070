import { Tag } from 'antd';
import { useT } from '../../i18n/index.tsx';
import type { AsyncJobStatus } from './async-jobs-api.ts';

const COLORS: Record<AsyncJobStatus, string> = {
  queued: 'default',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  cancelling: 'warning',
  cancelled: 'default',
};

export function AsyncJobStatusTag({ status }: { status: AsyncJobStatus }) {
  const t = useT();
  return (
    <Tag color={COLORS[status]} data-testid="async-job-status" data-status={status}>
      {t(`async_jobs.status.${status}`)}
    </Tag>
  );
}
