import { DeleteOutlined, DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Popconfirm, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { GatewayError, GatewayKeyBar, GatewayKeyPicker, useGatewayKey } from '../components/gateway-key.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';
import { deleteFile, downloadFile, type FileObject, formatBytes, listFiles } from '../lib/gateway-files.ts';
import { UploadModal } from './files/upload-modal.tsx';

const iso = (s: number | null) => (s ? new Date(s * 1000).toISOString() : null);

export default function FilesPage() {
  const t = useT();
  const { key, setKey, forget } = useGatewayKey();
  if (!key) {
    return (
      <Page id="files" title={t('nav.files')} subTitle={t('files.subtitle')}>
        <GatewayKeyPicker onPicked={setKey} />
      </Page>
    );
  }
  return (
    <Page
      id="files"
      title={t('nav.files')}
      subTitle={t('files.subtitle')}
      extra={<GatewayKeyBar apiKey={key} onChange={forget} />}
    >
      <FilesTable apiKey={key.secret} onKeyRefused={forget} />
    </Page>
  );
}

function FilesTable({ apiKey, onKeyRefused }: { apiKey: string; onKeyRefused(): void }) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const { can } = useAuth();
  const canWrite = can('write');
  const queryClient = useQueryClient();
  const [uploading, setUploading] = useState(false);
  const files = useQuery({
    queryKey: ['gateway-files', apiKey],
    queryFn: () => listFiles(apiKey),
    retry: false,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['gateway-files', apiKey] });
  const remove = useMutation({
    mutationFn: (id: string) => deleteFile(apiKey, id),
    onSuccess: () => {
      message.success(t('files.deleted'));
      void refresh();
    },
    onError: (err) => message.error(errorText(err)),
  });
  const download = (f: FileObject) =>
    downloadFile(apiKey, f.id, f.filename).catch((err) => message.error(errorText(err)));

  const columns: ProColumns<FileObject>[] = [
    {
      title: t('files.id'),
      dataIndex: 'id',
      render: (_, f) => (
        <Typography.Text className="maas-mono" copyable style={{ fontSize: 12, whiteSpace: 'nowrap' }}>
          {f.id}
        </Typography.Text>
      ),
    },
    { title: t('files.filename'), dataIndex: 'filename', ellipsis: true, width: 200 },
    {
      title: t('files.purpose'),
      dataIndex: 'purpose',
      render: (_, f) => <Tag color={f.purpose.startsWith('batch') ? 'blue' : 'default'}>{f.purpose}</Tag>,
    },
    {
      title: t('files.bytes'),
      dataIndex: 'bytes',
      align: 'right',
      render: (_, f) => <span style={{ whiteSpace: 'nowrap' }}>{formatBytes(f.bytes)}</span>,
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, f) => formatDateTime(iso(f.created_at)),
    },
    {
      title: t('files.expires'),
      dataIndex: 'expires_at',
      width: 170,
      render: (_, f) =>
        f.expires_at ? (
          formatDateTime(iso(f.expires_at))
        ) : (
          <Typography.Text type="secondary">{t('files.never')}</Typography.Text>
        ),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      render: (_, f) => (
        <Space size={0} style={{ whiteSpace: 'nowrap' }}>
          <Button type="link" size="small" icon={<DownloadOutlined />} onClick={() => download(f)}>
            {t('files.download')}
          </Button>
          {canWrite ? (
            <Popconfirm
              title={t('files.delete_title', { name: f.filename })}
              okText={t('action.delete')}
              okButtonProps={{ danger: true }}
              onConfirm={() => remove.mutateAsync(f.id)}
            >
              <Button type="link" size="small" danger icon={<DeleteOutlined />}>
                {t('action.delete')}
              </Button>
            </Popconfirm>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <div data-testid="files-table">
      <GatewayError error={files.error} onChange={onKeyRefused} onRetry={() => files.refetch()} />
      <ProTable<FileObject>
        rowKey="id"
        columns={columns}
        dataSource={files.data ?? []}
        loading={files.isLoading}
        search={false}
        scroll={{ x: 'max-content' }}
        options={{ reload: () => files.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 10, showSizeChanger: true }}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="upload"
                  type="primary"
                  icon={<UploadOutlined />}
                  onClick={() => setUploading(true)}
                  data-testid="file-upload"
                >
                  {t('files.upload')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('files.empty')}
              hint={canWrite ? t('files.empty_hint') : t('common.ask_operator')}
            />
          ),
        }}
      />
      <UploadModal
        apiKey={apiKey}
        open={uploading}
        onClose={() => setUploading(false)}
        onUploaded={(f) => {
          setUploading(false);
          message.success(t('files.uploaded', { name: f.filename }));
          void refresh();
        }}
      />
    </div>
  );
}
