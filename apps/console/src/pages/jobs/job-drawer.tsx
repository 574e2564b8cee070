import { StopOutlined } from '@ant-design/icons';
import { Alert, Button, Descriptions, Drawer, Popconfirm, Space, Typography } from 'antd';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { type AsyncJob, LIVE_JOB_STATUSES } from './async-jobs-api.ts';
import { AsyncJobStatusTag } from './job-status.tsx';

const iso = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);

/** One job: its fields, the real error text, the OpenAI answer as JSON, and cancel for writers. */
export function JobDrawer({
  job,
  canWrite,
  onCancel,
  onClose,
}: {
  job: AsyncJob | null;
  canWrite: boolean;
  onCancel(id: string): Promise<unknown>;
  onClose(): void;
}) {
  const t = useT();
  const cancellable = job && (job.status === 'queued' || job.status === 'running');
  return (
    <Drawer
      open={job !== null}
      onClose={onClose}
      width={640}
      title={job ? <span className="maas-mono">{job.id}</span> : null}
      extra={
        canWrite && cancellable ? (
          <Popconfirm
            title={t('async_jobs.cancel_title')}
            okText={t('async_jobs.cancel_confirm')}
            cancelText={t('async_jobs.keep_running')}
            okButtonProps={{ danger: true }}
            onConfirm={() => onCancel(job.id)}
          >
            <Button danger icon={<StopOutlined />} data-testid="async-job-cancel">
              {t('async_jobs.cancel')}
            </Button>
          </Popconfirm>
        ) : null
      }
    >
      {job ? (
        <Space direction="vertical" style={{ width: '100%' }} data-testid="async-job-drawer">
          <Descriptions size="small" column={1} bordered>
            <Descriptions.Item label={t('common.status')}>
              <AsyncJobStatusTag status={job.status} />
            </Descriptions.Item>
            <Descriptions.Item label={t('async_jobs.endpoint')}>
              <span className="maas-mono">{job.endpoint}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('async_jobs.model')}>{job.model ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('common.created')}>
              {formatDateTime(iso(job.created_at))}
            </Descriptions.Item>
            <Descriptions.Item label={t('async_jobs.finished')}>
              {formatDateTime(iso(job.completed_at))}
            </Descriptions.Item>
            <Descriptions.Item label={t('async_jobs.attempts')}>{job.attempts}</Descriptions.Item>
            <Descriptions.Item label={t('async_jobs.request_id')}>
              {job.request_id ? (
                <Typography.Text className="maas-mono" copyable>
                  {job.request_id}
                </Typography.Text>
              ) : (
                '—'
              )}
            </Descriptions.Item>
            {job.callback_url ? (
              <Descriptions.Item label={t('async_jobs.callback')}>{job.callback_url}</Descriptions.Item>
            ) : null}
          </Descriptions>
          {job.error ? (
            <Alert
              type="error"
              showIcon
              data-testid="async-job-error"
              message={job.error.code ?? t('async_jobs.error')}
              description={
                job.error.status_code
                  ? `HTTP ${job.error.status_code}: ${job.error.message}`
                  : job.error.message
              }
            />
          ) : null}
          {job.result !== null && job.result !== undefined ? (
            <>
              <Typography.Text strong>{t('async_jobs.result')}</Typography.Text>
              <pre
                className="maas-mono"
                data-testid="async-job-result"
                style={{ fontSize: 12, overflow: 'auto' }}
              >
                {JSON.stringify(job.result, null, 2)}
              </pre>
            </>
          ) : null}
          {LIVE_JOB_STATUSES.includes(job.status) ? (
            <Typography.Text type="secondary">{t('async_jobs.live_hint')}</Typography.Text>
          ) : null}
        </Space>
      ) : null}
    </Drawer>
  );
}
