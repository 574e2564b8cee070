import { DeleteOutlined, UploadOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Popconfirm, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatBytes } from '../../lib/gateway-files.ts';
import { detachFile, listStoreFiles, type VectorStoreFile } from '../../lib/knowledge-bases.ts';
import { AddFileModal } from './add-file-modal.tsx';
import { ChunkList } from './chunk-list.tsx';
import { FileStages, FileStatusTag } from './file-status.tsx';

/** The files of a store, live while any is in progress; each row opens its chunks. */
export function StoreFiles({
  project,
  storeId,
  canWrite,
}: {
  project: string;
  storeId: string;
  canWrite: boolean;
}) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const files = useQuery({
    queryKey: ['kb-files', project, storeId],
    queryFn: () => listStoreFiles(project, storeId),
    retry: false,
    refetchInterval: (q) => (q.state.data?.some((f) => f.status === 'in_progress') ? 1_500 : false),
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['kb-files', project, storeId] });
    void queryClient.invalidateQueries({ queryKey: ['kb-store', project, storeId] });
  };
  const remove = useMutation({
    mutationFn: (fileId: string) => detachFile(project, storeId, fileId),
    onSuccess: () => {
      message.success(t('kb.file_removed'));
      refresh();
    },
    onError: (err) => message.error(errorText(err)),
  });

  return (
    <div data-testid="kb-files">
      {files.error ? <ErrorAlert error={files.error} onRetry={() => files.refetch()} /> : null}
      {canWrite ? (
        <Space style={{ marginBottom: 12 }}>
          <Button
            type="primary"
            icon={<UploadOutlined />}
            onClick={() => setAdding(true)}
            data-testid="kb-add-file"
          >
            {t('kb.add_file')}
          </Button>
        </Space>
      ) : null}
      <Table<VectorStoreFile>
        rowKey="id"
        size="small"
        loading={files.isLoading}
        dataSource={files.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: t('kb.files_empty') }}
        expandable={{
          expandedRowRender: (f) => <ChunkList project={project} storeId={storeId} fileId={f.id} />,
          rowExpandable: (f) => f.status === 'completed' && f.chunk_count > 0,
        }}
        columns={[
          {
            title: t('kb.file'),
            key: 'file',
            render: (_, f) => (
              <Space direction="vertical" size={0}>
                <Typography.Text strong>{f.filename}</Typography.Text>
                <Typography.Text type="secondary" className="maas-mono" style={{ fontSize: 12 }}>
                  {f.id}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('common.status'),
            key: 'status',
            render: (_, f) => <FileStatusTag status={f.status} />,
          },
          { title: t('kb.pipeline'), key: 'stages', render: (_, f) => <FileStages file={f} /> },
          { title: t('kb.chunks'), dataIndex: 'chunk_count', align: 'right' },
          {
            title: t('kb.size'),
            key: 'size',
            align: 'right',
            render: (_, f) => <span style={{ whiteSpace: 'nowrap' }}>{formatBytes(f.usage_bytes)}</span>,
          },
          ...(canWrite
            ? [
                {
                  title: '',
                  key: 'actions',
                  render: (_: unknown, f: VectorStoreFile) => (
                    <Popconfirm
                      title={t('kb.file_remove_title', { name: f.filename })}
                      okText={t('action.remove')}
                      okButtonProps={{ danger: true }}
                      onConfirm={() => remove.mutateAsync(f.id)}
                    >
                      <Button
                        type="link"
                        size="small"
                        danger
                        icon={<DeleteOutlined />}
                        data-testid="kb-file-remove"
                      >
                        {t('action.remove')}
                      </Button>
                    </Popconfirm>
                  ),
                },
              ]
            : []),
        ]}
      />
      <AddFileModal
        project={project}
        storeId={storeId}
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={(f) => {
          setAdding(false);
          message.success(t('kb.file_added', { name: f.filename }));
          refresh();
        }}
      />
    </div>
  );
}
