import { DownloadOutlined, PlusOutlined, StopOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Descriptions, List, Popconfirm, Space, Typography } from 'antd';
import { useState } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { GatewayError, GatewayKeyBar, GatewayKeyPicker, useGatewayKey } from '../components/gateway-key.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime, formatNumber } from '../lib/format.ts';
import {
  type Batch,
  cancelBatch,
  downloadFile,
  FINAL_BATCH_STATUSES,
  listBatches,
} from '../lib/gateway-files.ts';
import { BatchProgress, BatchStatusTag } from './batches/batch-status.tsx';
import { CreateBatchModal } from './batches/create-batch-modal.tsx';

const iso = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);
const isFinal = (b: Batch) => FINAL_BATCH_STATUSES.includes(b.status);

export default function BatchesPage() {
  const t = useT();
  const { key, setKey, forget } = useGatewayKey();
  if (!key) {
    return (
      <Page id="batches" title={t('nav.batches')} subTitle={t('batches.subtitle')}>
        <GatewayKeyPicker onPicked={setKey} />
      </Page>
    );
  }
  return (
    <Page
      id="batches"
      title={t('nav.batches')}
      subTitle={t('batches.subtitle')}
      extra={<GatewayKeyBar apiKey={key} onChange={forget} />}
    >
      <BatchesTable apiKey={key.secret} onKeyRefused={forget} />
    </Page>
  );
}

function BatchDetails({ batch }: { batch: Batch }) {
  const t = useT();
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Descriptions size="small" column={5}>
        <Descriptions.Item label={t('batches.input_file')}>
          <Typography.Text className="maas-mono" copyable>
            {batch.input_file_id}
          </Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('batches.tokens_in')}>
          {formatNumber(batch.usage.input_tokens)}
        </Descriptions.Item>
        <Descriptions.Item label={t('batches.tokens_out')}>
          {formatNumber(batch.usage.output_tokens)}
        </Descriptions.Item>
        <Descriptions.Item label={t('batches.completed_at')}>
          {formatDateTime(iso(batch.completed_at))}
        </Descriptions.Item>
        <Descriptions.Item label={t('batches.expires')}>
          {formatDateTime(iso(batch.expires_at))}
        </Descriptions.Item>
      </Descriptions>
      {batch.errors?.data.length ? (
        <List
          size="small"
          header={<Typography.Text strong>{t('batches.validation_errors')}</Typography.Text>}
          dataSource={batch.errors.data.slice(0, 20)}
          renderItem={(e) => (
            <List.Item>
              <Typography.Text code>{e.code}</Typography.Text>
              {e.line !== null ? ` ${t('batches.line', { line: e.line })}: ` : ' '}
              {e.message}
            </List.Item>
          )}
        />
      ) : null}
    </Space>
  );
}

function BatchesTable({ apiKey, onKeyRefused }: { apiKey: string; onKeyRefused(): void }) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const { can } = useAuth();
  const canWrite = can('write');
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const batches = useQuery({
    queryKey: ['gateway-batches', apiKey],
    queryFn: () => listBatches(apiKey),
    retry: false,
    // live request_counts while any batch still runs
    refetchInterval: (q) => (q.state.data?.some((b) => !isFinal(b)) ? 1500 : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['gateway-batches', apiKey] });
  const cancel = useMutation({
    mutationFn: (id: string) => cancelBatch(apiKey, id),
    onSuccess: () => {
      message.success(t('batches.cancel_requested'));
      void refresh();
    },
    onError: (err) => message.error(errorText(err)),
  });
  const download = (fileId: string, name: string) =>
    downloadFile(apiKey, fileId, name).catch((err) => message.error(errorText(err)));

  const columns: ProColumns<Batch>[] = [
    {
      title: t('batches.id'),
      dataIndex: 'id',
      render: (_, b) => (
        <Space direction="vertical" size={0}>
          <Typography.Text className="maas-mono" copyable style={{ fontSize: 12, whiteSpace: 'nowrap' }}>
            {b.id}
          </Typography.Text>
          {b.metadata?.description ? (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {b.metadata.description}
            </Typography.Text>
          ) : null}
        </Space>
      ),
    },
    {
      title: t('common.status'),
      dataIndex: 'status',
      render: (_, b) => <BatchStatusTag status={b.status} />,
    },
    { title: t('batches.progress'), key: 'progress', render: (_, b) => <BatchProgress batch={b} /> },
    {
      title: t('batches.endpoint'),
      dataIndex: 'endpoint',
      render: (_, b) => (
        <Space direction="vertical" size={0} style={{ whiteSpace: 'nowrap' }}>
          <Typography.Text className="maas-mono" style={{ fontSize: 12 }}>
            {b.endpoint}
          </Typography.Text>
          {b.model ? <Typography.Text type="secondary">{b.model}</Typography.Text> : null}
        </Space>
      ),
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, b) => formatDateTime(iso(b.created_at)),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      render: (_, b) => (
        <Space size={0} style={{ whiteSpace: 'nowrap' }}>
          {b.output_file_id ? (
            <Button
              type="link"
              size="small"
              icon={<DownloadOutlined />}
              onClick={() => download(b.output_file_id!, `${b.id}_output.jsonl`)}
              data-testid="batch-output"
            >
              {t('batches.output')}
            </Button>
          ) : null}
          {b.error_file_id ? (
            <Button
              type="link"
              size="small"
              danger
              icon={<DownloadOutlined />}
              onClick={() => download(b.error_file_id!, `${b.id}_errors.jsonl`)}
            >
              {t('batches.error_file')}
            </Button>
          ) : null}
          {canWrite && (b.status === 'validating' || b.status === 'in_progress') ? (
            <Popconfirm
              title={t('batches.cancel_title')}
              description={t('batches.cancel_hint')}
              okText={t('batches.cancel_confirm')}
              cancelText={t('batches.keep_running')}
              okButtonProps={{ danger: true }}
              onConfirm={() => cancel.mutateAsync(b.id)}
            >
              <Button type="link" size="small" danger icon={<StopOutlined />}>
                {t('batches.cancel')}
              </Button>
            </Popconfirm>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <div data-testid="batches-table">
      <GatewayError error={batches.error} onChange={onKeyRefused} onRetry={() => batches.refetch()} />
      <ProTable<Batch>
        rowKey="id"
        columns={columns}
        dataSource={batches.data ?? []}
        loading={batches.isLoading}
        search={false}
        scroll={{ x: 'max-content' }}
        options={{ reload: () => batches.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 10, showSizeChanger: true }}
        expandable={{ expandedRowRender: (b) => <BatchDetails batch={b} /> }}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="new"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setCreating(true)}
                  data-testid="batch-create"
                >
                  {t('batches.new')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('batches.empty')}
              hint={canWrite ? t('batches.empty_hint') : t('common.ask_operator')}
            />
          ),
        }}
      />
      <CreateBatchModal
        apiKey={apiKey}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(b) => {
          setCreating(false);
          message.success(t('batches.created', { id: b.id }));
          void refresh();
        }}
      />
    </div>
  );
}
