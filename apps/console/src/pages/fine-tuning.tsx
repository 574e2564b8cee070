import { PlusOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Space, Typography } from 'antd';
import { useState } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { GatewayError, GatewayKeyBar, GatewayKeyPicker, useGatewayKey } from '../components/gateway-key.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime, formatNumber } from '../lib/format.ts';
import { FINAL_JOB_STATUSES, type FineTuningJob, listJobs } from '../lib/gateway-fine-tuning.ts';
import { CreateJobModal } from './fine-tuning/create-job-modal.tsx';
import { JobDrawer } from './fine-tuning/job-drawer.tsx';
import { JobProgress, JobStatusTag } from './fine-tuning/job-status.tsx';

const iso = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);

export default function FineTuningPage() {
  const t = useT();
  const { key, setKey, forget } = useGatewayKey();
  if (!key) {
    return (
      <Page id="fine-tuning" title={t('nav.fine_tuning')} subTitle={t('ft.subtitle')}>
        <GatewayKeyPicker onPicked={setKey} />
      </Page>
    );
  }
  return (
    <Page
      id="fine-tuning"
      title={t('nav.fine_tuning')}
      subTitle={t('ft.subtitle')}
      extra={<GatewayKeyBar apiKey={key} onChange={forget} />}
    >
      <JobsTable apiKey={key.secret} onKeyRefused={forget} />
    </Page>
  );
}

function JobsTable({ apiKey, onKeyRefused }: { apiKey: string; onKeyRefused(): void }) {
  const t = useT();
  const { message } = App.useApp();
  const { can } = useAuth();
  const canWrite = can('write');
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const jobs = useQuery({
    queryKey: ['ft-jobs', apiKey],
    queryFn: () => listJobs(apiKey),
    retry: false,
    refetchInterval: (q) =>
      q.state.data?.some((j) => !FINAL_JOB_STATUSES.includes(j.status)) ? 2000 : false,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['ft-jobs', apiKey] });

  const columns: ProColumns<FineTuningJob>[] = [
    {
      title: t('ft.job'),
      dataIndex: 'id',
      render: (_, j) => (
        <Typography.Link
          className="maas-mono"
          style={{ fontSize: 12 }}
          onClick={() => setOpen(j.id)}
          data-testid="ft-open"
        >
          {j.id}
        </Typography.Link>
      ),
    },
    { title: t('common.status'), dataIndex: 'status', render: (_, j) => <JobStatusTag status={j.status} /> },
    { title: t('ft.progress'), key: 'progress', render: (_, j) => <JobProgress job={j} /> },
    {
      title: t('ft.base_model'),
      dataIndex: 'model',
      render: (_, j) => (
        <Space direction="vertical" size={0}>
          <span>{j.model}</span>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t(`ft.method.${j.method.type}`)}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t('ft.fine_tuned_model'),
      dataIndex: 'fine_tuned_model',
      render: (_, j) =>
        j.fine_tuned_model ? (
          <Typography.Text className="maas-mono" copyable style={{ fontSize: 12 }} data-testid="ft-model">
            {j.fine_tuned_model}
          </Typography.Text>
        ) : (
          '—'
        ),
    },
    {
      title: t('ft.trained_tokens'),
      dataIndex: 'trained_tokens',
      render: (_, j) => formatNumber(j.trained_tokens),
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, j) => formatDateTime(iso(j.created_at)),
    },
  ];

  return (
    <div data-testid="ft-jobs">
      <GatewayError error={jobs.error} onChange={onKeyRefused} onRetry={() => jobs.refetch()} />
      <ProTable<FineTuningJob>
        rowKey="id"
        columns={columns}
        dataSource={jobs.data ?? []}
        loading={jobs.isLoading}
        search={false}
        scroll={{ x: 'max-content' }}
        options={{ reload: () => jobs.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 10, showSizeChanger: true }}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="new"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setCreating(true)}
                  data-testid="ft-create"
                >
                  {t('ft.new')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('ft.empty')}
              hint={canWrite ? t('ft.empty_hint') : t('common.ask_operator')}
            />
          ),
        }}
      />
      <CreateJobModal
        apiKey={apiKey}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(job) => {
          setCreating(false);
          message.success(t('ft.created', { id: job.id }));
          void refresh();
          setOpen(job.id);
        }}
      />
      <JobDrawer
        apiKey={apiKey}
        jobId={open}
        canWrite={canWrite}
        onClose={() => setOpen(null)}
        onChanged={refresh}
      />
    </div>
  );
}
