import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Select, Space, Typography } from 'antd';
import { useState } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { GatewayError, GatewayKeyBar, GatewayKeyPicker, useGatewayKey } from '../components/gateway-key.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';
import {
  ASYNC_JOB_STATUSES,
  type AsyncJob,
  type AsyncJobStatus,
  cancelAsyncJob,
  LIVE_JOB_STATUSES,
  listAsyncJobs,
} from './jobs/async-jobs-api.ts';
import { JobDrawer } from './jobs/job-drawer.tsx';
import { AsyncJobStatusTag } from './jobs/job-status.tsx';

const iso = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);

/** Async inference jobs (/api/v1/async) of the project of this tab's API key. */
export default function AsyncJobsPage() {
  const t = useT();
  const { key, setKey, forget } = useGatewayKey();
  if (!key) {
    return (
      <Page id="jobs" title={t('nav.async_jobs')} subTitle={t('async_jobs.subtitle')}>
        <GatewayKeyPicker onPicked={setKey} />
      </Page>
    );
  }
  return (
    <Page
      id="jobs"
      title={t('nav.async_jobs')}
      subTitle={t('async_jobs.subtitle')}
      extra={<GatewayKeyBar apiKey={key} onChange={forget} />}
    >
      <AsyncJobsTable apiKey={key.secret} onKeyRefused={forget} />
    </Page>
  );
}

function AsyncJobsTable({ apiKey, onKeyRefused }: { apiKey: string; onKeyRefused(): void }) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const { can } = useAuth();
  const canWrite = can('write');
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<AsyncJobStatus | undefined>();
  const [openId, setOpenId] = useState<string | null>(null);
  const jobs = useQuery({
    queryKey: ['async-jobs', apiKey, status],
    queryFn: () => listAsyncJobs(apiKey, status),
    retry: false,
    // live while any job still runs
    refetchInterval: (q) => (q.state.data?.some((j) => LIVE_JOB_STATUSES.includes(j.status)) ? 1500 : false),
  });
  const cancel = useMutation({
    mutationFn: (id: string) => cancelAsyncJob(apiKey, id),
    onSuccess: () => {
      message.success(t('async_jobs.cancel_requested'));
      void queryClient.invalidateQueries({ queryKey: ['async-jobs', apiKey] });
    },
    onError: (err) => message.error(errorText(err)),
  });
  const open = jobs.data?.find((j) => j.id === openId) ?? null;

  const columns: ProColumns<AsyncJob>[] = [
    {
      title: t('async_jobs.id'),
      dataIndex: 'id',
      render: (_, j) => (
        <Typography.Link
          className="maas-mono"
          style={{ fontSize: 12, whiteSpace: 'nowrap' }}
          onClick={() => setOpenId(j.id)}
          data-testid="async-job-open"
        >
          {j.id}
        </Typography.Link>
      ),
    },
    { title: t('async_jobs.model'), dataIndex: 'model', render: (_, j) => j.model ?? '—' },
    {
      title: t('async_jobs.endpoint'),
      dataIndex: 'endpoint',
      render: (_, j) => (
        <Typography.Text className="maas-mono" style={{ fontSize: 12 }}>
          {j.endpoint}
        </Typography.Text>
      ),
    },
    {
      title: t('common.status'),
      dataIndex: 'status',
      render: (_, j) => <AsyncJobStatusTag status={j.status} />,
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, j) => formatDateTime(iso(j.created_at)),
    },
    {
      title: t('async_jobs.finished'),
      dataIndex: 'completed_at',
      width: 170,
      render: (_, j) => formatDateTime(iso(j.completed_at)),
    },
    {
      title: t('async_jobs.error'),
      key: 'error',
      render: (_, j) =>
        j.error ? (
          <Typography.Text type="danger" ellipsis={{ tooltip: j.error.message }} style={{ maxWidth: 320 }}>
            {j.error.message}
          </Typography.Text>
        ) : null,
    },
  ];

  return (
    <div data-testid="async-jobs-table">
      <GatewayError error={jobs.error} onChange={onKeyRefused} onRetry={() => jobs.refetch()} />
      <ProTable<AsyncJob>
        rowKey="id"
        columns={columns}
        dataSource={jobs.data ?? []}
        loading={jobs.isLoading}
        search={false}
        scroll={{ x: 'max-content' }}
        options={{ reload: () => jobs.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 20, showSizeChanger: true }}
        toolBarRender={() => [
          <Space key="status">
            <Select<AsyncJobStatus>
              allowClear
              style={{ width: 160 }}
              placeholder={t('async_jobs.all_statuses')}
              value={status}
              onChange={(v) => setStatus(v)}
              data-testid="async-job-status-filter"
              options={ASYNC_JOB_STATUSES.map((s) => ({ value: s, label: t(`async_jobs.status.${s}`) }))}
            />
            <Button onClick={() => jobs.refetch()}>{t('async_jobs.refresh')}</Button>
          </Space>,
        ]}
        locale={{ emptyText: <EmptyState title={t('async_jobs.empty')} hint={t('async_jobs.empty_hint')} /> }}
      />
      <JobDrawer
        job={open}
        canWrite={canWrite}
        onCancel={(id) => cancel.mutateAsync(id)}
        onClose={() => setOpenId(null)}
      />
    </div>
  );
}
