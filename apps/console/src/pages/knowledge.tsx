import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Popconfirm, Space, Typography } from 'antd';
import { useState } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { GatewayError, GatewayKeyBar, GatewayKeyPicker, useGatewayKey } from '../components/gateway-key.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';
import { formatBytes } from '../lib/gateway-files.ts';
import { deleteStore, listStores, type VectorStore } from '../lib/gateway-knowledge.ts';
import { CreateStoreModal } from './knowledge/create-store-modal.tsx';
import { FileCountsView } from './knowledge/file-status.tsx';
import { StoreDrawer } from './knowledge/store-drawer.tsx';

const iso = (s: number) => new Date(s * 1000).toISOString();

export default function KnowledgePage() {
  const t = useT();
  const { key, setKey, forget } = useGatewayKey();
  if (!key) {
    return (
      <Page id="knowledge" title={t('nav.knowledge')} subTitle={t('kb.subtitle')}>
        <GatewayKeyPicker onPicked={setKey} />
      </Page>
    );
  }
  return (
    <Page
      id="knowledge"
      title={t('nav.knowledge')}
      subTitle={t('kb.subtitle')}
      extra={<GatewayKeyBar apiKey={key} onChange={forget} />}
    >
      <StoresTable apiKey={key.secret} onKeyRefused={forget} />
    </Page>
  );
}

function StoresTable({ apiKey, onKeyRefused }: { apiKey: string; onKeyRefused(): void }) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const { can } = useAuth();
  const canWrite = can('write');
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const stores = useQuery({
    queryKey: ['kb-stores', apiKey],
    queryFn: () => listStores(apiKey),
    retry: false,
    // follows ingestion while any store has files in progress
    refetchInterval: (q) => (q.state.data?.some((s) => s.file_counts.in_progress > 0) ? 2_000 : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['kb-stores', apiKey] });
  const remove = useMutation({
    mutationFn: (id: string) => deleteStore(apiKey, id),
    onSuccess: () => {
      message.success(t('kb.deleted'));
      void refresh();
    },
    onError: (err) => message.error(errorText(err)),
  });

  const columns: ProColumns<VectorStore>[] = [
    {
      title: t('common.name'),
      dataIndex: 'name',
      render: (_, s) => (
        <Space direction="vertical" size={0}>
          <Typography.Link strong onClick={() => setOpenId(s.id)} data-testid="kb-store-open">
            {s.name || s.id}
          </Typography.Link>
          <Typography.Text type="secondary" className="maas-mono" style={{ fontSize: 12 }}>
            {s.id}
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: t('kb.files'),
      key: 'files',
      render: (_, s) => <FileCountsView counts={s.file_counts} />,
    },
    { title: t('kb.embedding_model'), dataIndex: 'embedding_model' },
    {
      title: t('kb.size'),
      dataIndex: 'usage_bytes',
      align: 'right',
      render: (_, s) => <span style={{ whiteSpace: 'nowrap' }}>{formatBytes(s.usage_bytes)}</span>,
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 170,
      render: (_, s) => formatDateTime(iso(s.created_at)),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      render: (_, s) => (
        <Space size={0} style={{ whiteSpace: 'nowrap' }}>
          <Button type="link" size="small" onClick={() => setOpenId(s.id)}>
            {t('kb.open')}
          </Button>
          {canWrite ? (
            <Popconfirm
              title={t('kb.delete_title', { name: s.name || s.id })}
              description={t('kb.delete_hint')}
              okText={t('action.delete')}
              okButtonProps={{ danger: true, 'data-testid': 'kb-store-delete-confirm' }}
              onConfirm={() => remove.mutateAsync(s.id)}
            >
              <Button type="link" size="small" danger icon={<DeleteOutlined />} data-testid="kb-store-delete">
                {t('action.delete')}
              </Button>
            </Popconfirm>
          ) : null}
        </Space>
      ),
    },
  ];

  return (
    <div data-testid="kb-stores">
      <GatewayError error={stores.error} onChange={onKeyRefused} onRetry={() => stores.refetch()} />
      <ProTable<VectorStore>
        rowKey="id"
        columns={columns}
        dataSource={stores.data ?? []}
        loading={stores.isLoading}
        search={false}
        scroll={{ x: 'max-content' }}
        options={{ reload: () => stores.refetch(), density: true, setting: true }}
        pagination={{ pageSize: 10, showSizeChanger: true }}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="create"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setCreating(true)}
                  data-testid="kb-create"
                >
                  {t('kb.create')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('kb.empty')}
              hint={canWrite ? t('kb.empty_hint') : t('common.ask_operator')}
            />
          ),
        }}
      />
      <CreateStoreModal
        apiKey={apiKey}
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(s) => {
          setCreating(false);
          message.success(t('kb.created', { name: s.name }));
          void refresh();
          setOpenId(s.id);
        }}
      />
      <StoreDrawer
        apiKey={apiKey}
        storeId={openId}
        canWrite={canWrite}
        onClose={() => {
          setOpenId(null);
          void refresh();
        }}
      />
    </div>
  );
}
