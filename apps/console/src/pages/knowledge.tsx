import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Popconfirm, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useProjects } from '../api/queries.ts';
import { useErrorText } from '../components/error-text.ts';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';
import { formatBytes } from '../lib/gateway-files.ts';
import { deleteStore, listStores, type VectorStore } from '../lib/knowledge-bases.ts';
import { CreateStoreModal } from './knowledge/create-store-modal.tsx';
import { FileCountsView } from './knowledge/file-status.tsx';
import { StoreDrawer } from './knowledge/store-drawer.tsx';
import { useMyPermissions } from './roles/role-api.ts';

/** The knowledge bases of one project, with the session (no API key). */
export default function KnowledgePage() {
  const t = useT();
  const projects = useProjects();
  const [picked, setPicked] = useState<string | null>(null);
  const project = picked ?? projects.data?.[0]?.id ?? null;
  return (
    <Page
      id="knowledge"
      title={t('nav.knowledge')}
      subTitle={t('kb.subtitle')}
      extra={
        <Space>
          {t('kb.project')}
          <Select
            style={{ minWidth: 200 }}
            value={project}
            loading={projects.isLoading}
            onChange={setPicked}
            options={(projects.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
            data-testid="kb-project"
          />
        </Space>
      }
    >
      {projects.error ? <ErrorAlert error={projects.error} onRetry={() => projects.refetch()} /> : null}
      {project ? <StoresTable key={project} project={project} /> : null}
    </Page>
  );
}

/** knowledge:write in the org, or in this project (a project role) */
function useCanWrite(project: string): boolean {
  const mine = useMyPermissions();
  const d = mine.data;
  if (!d) return false;
  return (
    d.org.includes('knowledge:write') ||
    (d.projects.find((p) => p.project_id === project)?.permissions.includes('knowledge:write') ?? false)
  );
}

function StoresTable({ project }: { project: string }) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const canWrite = useCanWrite(project);
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const stores = useQuery({
    queryKey: ['kb-stores', project],
    queryFn: () => listStores(project),
    retry: false,
    // follows ingestion while any store has files in progress
    refetchInterval: (q) => (q.state.data?.some((s) => s.file_counts.in_progress > 0) ? 2_000 : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['kb-stores', project] });
  const remove = useMutation({
    mutationFn: (id: string) => deleteStore(project, id),
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
          <Space size={4}>
            <Typography.Link strong onClick={() => setOpenId(s.id)} data-testid="kb-store-open">
              {s.name || s.id}
            </Typography.Link>
            {s.status === 'expired' ? (
              <Tag color="default" data-testid="kb-store-expired">
                {t('kb.expired')}
              </Tag>
            ) : null}
          </Space>
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
      render: (_, s) => formatDateTime(s.created_at),
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
      {stores.error ? <ErrorAlert error={stores.error} onRetry={() => stores.refetch()} /> : null}
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
        project={project}
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
        project={project}
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
