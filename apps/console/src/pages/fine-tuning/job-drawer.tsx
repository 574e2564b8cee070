import {
  CloudUploadOutlined,
  DownloadOutlined,
  PauseOutlined,
  PlayCircleOutlined,
  StopOutlined,
} from '@ant-design/icons';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Descriptions,
  Drawer,
  Empty,
  Popconfirm,
  Space,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { useErrorText } from '../../components/error-text.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime, formatNumber } from '../../lib/format.ts';
import { downloadFile } from '../../lib/gateway-files.ts';
import {
  type Checkpoint,
  deployJob,
  FINAL_JOB_STATUSES,
  getJob,
  jobAction,
  listCheckpoints,
  listEvents,
} from '../../lib/gateway-fine-tuning.ts';
import { JobProgress, JobStatusTag } from './job-status.tsx';
import { LossChart } from './loss-chart.tsx';

const iso = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);
const LEVEL_COLORS = { info: 'default', warn: 'warning', error: 'error' } as const;

/** One job: its settings, live loss chart, events, checkpoints, and its actions (pause, resume, cancel, deploy). */
export function JobDrawer({
  apiKey,
  jobId,
  canWrite,
  onClose,
  onChanged,
}: {
  apiKey: string;
  jobId: string | null;
  canWrite: boolean;
  onClose(): void;
  onChanged(): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const live = (q: { state: { data?: { status: string } | undefined } }) =>
    q.state.data && FINAL_JOB_STATUSES.includes(q.state.data.status as never) ? false : 2000;
  const job = useQuery({
    queryKey: ['ft-job', apiKey, jobId],
    queryFn: () => getJob(apiKey, jobId!),
    enabled: jobId !== null,
    retry: false,
    refetchInterval: live,
  });
  const running = job.data && !FINAL_JOB_STATUSES.includes(job.data.status);
  const events = useQuery({
    // a new status (succeeded after the parity check) brings the events that came with it
    queryKey: ['ft-events', apiKey, jobId, job.data?.status],
    queryFn: () => listEvents(apiKey, jobId!),
    enabled: jobId !== null,
    placeholderData: keepPreviousData,
    retry: false,
    refetchInterval: running || job.isLoading ? 2000 : false,
  });
  const checkpoints = useQuery({
    queryKey: ['ft-checkpoints', apiKey, jobId, job.data?.status],
    queryFn: () => listCheckpoints(apiKey, jobId!),
    enabled: jobId !== null,
    placeholderData: keepPreviousData,
    retry: false,
    refetchInterval: running ? 3000 : false,
  });
  const refetchAll = () => {
    void job.refetch();
    void events.refetch();
    onChanged();
  };
  const act = useMutation({
    mutationFn: (action: 'cancel' | 'pause' | 'resume') => jobAction(apiKey, jobId!, action),
    onSuccess: refetchAll,
    onError: (err) => message.error(errorText(err)),
  });
  const deploy = useMutation({
    mutationFn: () => deployJob(apiKey, jobId!),
    onSuccess: (d) => {
      message.success(
        d.model
          ? t('ft.deployed', { replicas: d.replicas, base: d.base })
          : t('ft.deploy_requested', { base: d.base }),
      );
      refetchAll();
    },
    onError: (err) => message.error(errorText(err)),
  });
  const download = (fileId: string, name: string) =>
    downloadFile(apiKey, fileId, name).catch((err) => message.error(errorText(err)));

  const j = job.data;
  const canDeploy =
    j && j.result_files.length > 0 && (j.status === 'succeeded' || j.error?.code === 'parity_check_failed');
  const actions =
    j && canWrite ? (
      <Space>
        {j.status === 'running' || j.status === 'queued' ? (
          <Button icon={<PauseOutlined />} onClick={() => act.mutate('pause')} data-testid="ft-pause">
            {t('ft.pause')}
          </Button>
        ) : null}
        {j.status === 'paused' ? (
          <Button icon={<PlayCircleOutlined />} onClick={() => act.mutate('resume')} data-testid="ft-resume">
            {t('ft.resume')}
          </Button>
        ) : null}
        {!FINAL_JOB_STATUSES.includes(j.status) ? (
          <Popconfirm
            title={t('ft.cancel_title')}
            description={t('ft.cancel_hint')}
            okText={t('ft.cancel')}
            cancelText={t('ft.keep')}
            okButtonProps={{ danger: true }}
            onConfirm={() => act.mutateAsync('cancel')}
          >
            <Button danger icon={<StopOutlined />} data-testid="ft-cancel">
              {t('ft.cancel')}
            </Button>
          </Popconfirm>
        ) : null}
        {canDeploy ? (
          <Button
            type="primary"
            icon={<CloudUploadOutlined />}
            loading={deploy.isPending}
            onClick={() => deploy.mutate()}
            title={t('ft.deploy_hint')}
            data-testid="ft-deploy"
          >
            {t('ft.deploy')}
          </Button>
        ) : null}
      </Space>
    ) : null;

  const ckptColumns = [
    { title: t('ft.step'), dataIndex: 'step_number', width: 80 },
    {
      title: t('ft.train_loss'),
      key: 'loss',
      render: (_: unknown, c: Checkpoint) =>
        c.metrics.train_loss != null ? c.metrics.train_loss.toFixed(4) : '—',
    },
    {
      title: 'ID',
      dataIndex: 'fine_tuned_model_checkpoint',
      render: (v: string) => (
        <Typography.Text className="maas-mono" style={{ fontSize: 12 }}>
          {v}
        </Typography.Text>
      ),
    },
    {
      title: t('common.actions'),
      key: 'dl',
      render: (_: unknown, c: Checkpoint) =>
        c.maas.file_id ? (
          <Button
            type="link"
            size="small"
            icon={<DownloadOutlined />}
            onClick={() => download(c.maas.file_id!, `${jobId}-step-${c.step_number}.pt`)}
            data-testid="ft-checkpoint-download"
          >
            {t('ft.download')}
          </Button>
        ) : null,
    },
  ];

  return (
    <Drawer
      open={jobId !== null}
      onClose={onClose}
      width={980}
      destroyOnHidden
      title={
        <Space>
          {t('ft.details')}
          <Typography.Text className="maas-mono" style={{ fontSize: 13 }}>
            {jobId}
          </Typography.Text>
          {j ? <JobStatusTag status={j.status} /> : null}
        </Space>
      }
      extra={actions}
      data-testid="ft-drawer"
    >
      {job.error ? <ErrorAlert error={job.error} onRetry={() => job.refetch()} /> : null}
      {j ? (
        <>
          {j.error ? (
            <Alert
              type="error"
              showIcon
              message={j.error.message}
              data-testid="ft-job-error"
              style={{ marginBottom: 16 }}
            />
          ) : null}
          <Descriptions size="small" column={3} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t('ft.base_model')}>{j.model}</Descriptions.Item>
            <Descriptions.Item label={t('ft.method')}>{t(`ft.method.${j.method.type}`)}</Descriptions.Item>
            <Descriptions.Item label={t('ft.progress')}>
              <JobProgress job={j} />
            </Descriptions.Item>
            <Descriptions.Item label={t('ft.fine_tuned_model')} span={2}>
              {j.fine_tuned_model ? (
                <Typography.Text
                  className="maas-mono"
                  copyable
                  style={{ fontSize: 12 }}
                  data-testid="ft-drawer-model"
                >
                  {j.fine_tuned_model}
                </Typography.Text>
              ) : (
                '—'
              )}
            </Descriptions.Item>
            <Descriptions.Item label={t('ft.trained_tokens')}>
              {formatNumber(j.trained_tokens)}
            </Descriptions.Item>
            <Descriptions.Item label={t('ft.training_file')}>
              <Typography.Text className="maas-mono" style={{ fontSize: 12 }}>
                {j.training_file}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('ft.node')}>{j.maas.node_id ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('ft.finished')}>
              {formatDateTime(iso(j.finished_at))}
            </Descriptions.Item>
            {j.result_files[0] ? (
              <Descriptions.Item label={t('ft.adapter')}>
                <Button
                  type="link"
                  size="small"
                  icon={<DownloadOutlined />}
                  onClick={() => download(j.result_files[0]!, `${j.id}-adapter.gguf`)}
                  data-testid="ft-adapter-download"
                >
                  {t('ft.download')}
                </Button>
              </Descriptions.Item>
            ) : null}
          </Descriptions>
          <Typography.Title level={5}>{t('ft.loss')}</Typography.Title>
          <LossChart events={events.data ?? []} />
          <Tabs
            items={[
              {
                key: 'events',
                label: t('ft.events'),
                children: (
                  <div data-testid="ft-events" style={{ maxHeight: 360, overflow: 'auto' }}>
                    {(events.data ?? [])
                      .filter((e) => e.type !== 'metrics')
                      .reverse()
                      .map((e) => (
                        <div
                          key={e.id}
                          data-testid="ft-event"
                          data-level={e.level}
                          style={{ padding: '4px 0' }}
                        >
                          <Typography.Text type="secondary" style={{ fontSize: 12, marginRight: 8 }}>
                            {formatDateTime(iso(e.created_at))}
                          </Typography.Text>
                          {e.level !== 'info' ? <Tag color={LEVEL_COLORS[e.level]}>{e.level}</Tag> : null}
                          {e.message}
                        </div>
                      ))}
                  </div>
                ),
              },
              {
                key: 'checkpoints',
                label: t('ft.checkpoints'),
                children: (
                  <Table<Checkpoint>
                    rowKey="id"
                    size="small"
                    data-testid="ft-checkpoints"
                    columns={ckptColumns}
                    dataSource={checkpoints.data ?? []}
                    pagination={{ pageSize: 10 }}
                    locale={{ emptyText: <Empty description={t('ft.no_checkpoints')} /> }}
                  />
                ),
              },
            ]}
          />
        </>
      ) : null}
    </Drawer>
  );
}
