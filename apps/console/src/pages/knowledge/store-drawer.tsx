import { ReloadOutlined, SettingOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Descriptions, Drawer, Popconfirm, Space, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { formatBytes } from '../../lib/gateway-files.ts';
import { getStore, reindexStore } from '../../lib/knowledge-bases.ts';
import { FileCountsView } from './file-status.tsx';
import { SearchPanel } from './search-panel.tsx';
import { StoreFiles } from './store-files.tsx';
import { StoreSettingsModal } from './store-settings-modal.tsx';

/** One knowledge base: its settings, its files with their pipeline state, and a retrieval playground. */
export function StoreDrawer({
  project,
  storeId,
  canWrite,
  onClose,
}: {
  project: string;
  storeId: string | null;
  canWrite: boolean;
  onClose(): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const store = useQuery({
    queryKey: ['kb-store', project, storeId],
    queryFn: () => getStore(project, storeId!),
    enabled: storeId !== null,
    retry: false,
    refetchInterval: (q) => (q.state.data?.file_counts.in_progress ? 2_000 : false),
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['kb-store', project, storeId] });
    void queryClient.invalidateQueries({ queryKey: ['kb-files', project, storeId] });
  };
  const reindex = useMutation({
    mutationFn: () => reindexStore(project, storeId!),
    onSuccess: () => {
      message.success(t('kb.reindexing'));
      refresh();
    },
    onError: (err) => message.error(errorText(err)),
  });
  const s = store.data;
  const expired = s?.status === 'expired';
  return (
    <Drawer
      open={storeId !== null}
      onClose={onClose}
      width={980}
      destroyOnHidden
      title={s ? s.name || s.id : storeId}
      extra={
        s && canWrite && !expired ? (
          <Space>
            <Popconfirm
              title={t('kb.reindex_title')}
              description={t('kb.reindex_hint')}
              okText={t('kb.reindex')}
              onConfirm={() => reindex.mutateAsync()}
            >
              <Button icon={<ReloadOutlined />} loading={reindex.isPending} data-testid="kb-reindex">
                {t('kb.reindex')}
              </Button>
            </Popconfirm>
            <Button
              icon={<SettingOutlined />}
              onClick={() => setEditing(true)}
              data-testid="kb-settings-open"
            >
              {t('kb.settings')}
            </Button>
          </Space>
        ) : null
      }
      data-testid="kb-store-drawer"
    >
      {store.error ? <ErrorAlert error={store.error} onRetry={() => store.refetch()} /> : null}
      {s ? (
        <>
          <Descriptions size="small" column={3} style={{ marginBottom: 16 }} data-testid="kb-store-settings">
            <Descriptions.Item label="ID">
              <Typography.Text className="maas-mono" copyable style={{ fontSize: 12 }}>
                {s.id}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('kb.embedding_model')}>
              {s.embedding_model}
              {s.dimensions ? ` · ${s.dimensions}d` : ''}
            </Descriptions.Item>
            <Descriptions.Item label={t('kb.chunking')}>
              <span data-testid="kb-store-chunking">
                {t('kb.chunking_value', {
                  size: s.chunking_strategy.static.max_chunk_size_tokens,
                  overlap: s.chunking_strategy.static.chunk_overlap_tokens,
                })}
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t('kb.files')}>
              <FileCountsView counts={s.file_counts} />
            </Descriptions.Item>
            <Descriptions.Item label={t('kb.size')}>{formatBytes(s.usage_bytes)}</Descriptions.Item>
            <Descriptions.Item label={t('common.created')}>{formatDateTime(s.created_at)}</Descriptions.Item>
            <Descriptions.Item label={t('kb.retrieval_defaults')}>
              {t(`kb.ranker.${s.retrieval.ranker}`)} · {t('kb.top_k')} {s.retrieval.max_num_results}
              {s.retrieval.rerank_model ? ` · ${s.retrieval.rerank_model}` : ''}
            </Descriptions.Item>
            {s.description ? (
              <Descriptions.Item label={t('kb.description')}>{s.description}</Descriptions.Item>
            ) : null}
            {s.expires_at ? (
              <Descriptions.Item label={t('kb.expires')}>
                {expired ? <Tag>{t('kb.expired')}</Tag> : formatDateTime(s.expires_at)}
              </Descriptions.Item>
            ) : null}
          </Descriptions>
          <Tabs
            items={[
              {
                key: 'files',
                label: t('kb.files'),
                children: <StoreFiles project={project} storeId={s.id} canWrite={canWrite && !expired} />,
              },
              {
                key: 'search',
                label: <span data-testid="kb-tab-search">{t('kb.search_tab')}</span>,
                children: <SearchPanel project={project} store={s} />,
              },
            ]}
          />
          <StoreSettingsModal
            project={project}
            store={s}
            open={editing}
            onClose={() => setEditing(false)}
            onSaved={(saved, reindexing) => {
              setEditing(false);
              message.success(reindexing ? t('kb.saved_reindexing') : t('kb.saved'));
              queryClient.setQueryData(['kb-store', project, storeId], saved);
              refresh();
            }}
          />
        </>
      ) : null}
    </Drawer>
  );
}
