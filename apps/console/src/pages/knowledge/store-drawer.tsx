import { useQuery } from '@tanstack/react-query';
import { Descriptions, Drawer, Tabs, Typography } from 'antd';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { formatBytes } from '../../lib/gateway-files.ts';
import { getStore } from '../../lib/gateway-knowledge.ts';
import { FileCountsView } from './file-status.tsx';
import { SearchPanel } from './search-panel.tsx';
import { StoreFiles } from './store-files.tsx';

/** One knowledge base: its settings, its files with their pipeline state, and a retrieval playground. */
export function StoreDrawer({
  apiKey,
  storeId,
  canWrite,
  onClose,
}: {
  apiKey: string;
  storeId: string | null;
  canWrite: boolean;
  onClose(): void;
}) {
  const t = useT();
  const store = useQuery({
    queryKey: ['kb-store', apiKey, storeId],
    queryFn: () => getStore(apiKey, storeId!),
    enabled: storeId !== null,
    retry: false,
    refetchInterval: (q) => (q.state.data?.file_counts.in_progress ? 2_000 : false),
  });
  const s = store.data;
  return (
    <Drawer
      open={storeId !== null}
      onClose={onClose}
      width={980}
      destroyOnHidden
      title={s ? s.name || s.id : storeId}
      data-testid="kb-store-drawer"
    >
      {store.error ? <ErrorAlert error={store.error} onRetry={() => store.refetch()} /> : null}
      {s ? (
        <>
          <Descriptions size="small" column={3} style={{ marginBottom: 16 }}>
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
              {t('kb.chunking_value', {
                size: s.chunking_strategy.static.max_chunk_size_tokens,
                overlap: s.chunking_strategy.static.chunk_overlap_tokens,
              })}
            </Descriptions.Item>
            <Descriptions.Item label={t('kb.files')}>
              <FileCountsView counts={s.file_counts} />
            </Descriptions.Item>
            <Descriptions.Item label={t('kb.size')}>{formatBytes(s.usage_bytes)}</Descriptions.Item>
            <Descriptions.Item label={t('common.created')}>
              {formatDateTime(new Date(s.created_at * 1000).toISOString())}
            </Descriptions.Item>
          </Descriptions>
          <Tabs
            items={[
              {
                key: 'files',
                label: t('kb.files'),
                children: <StoreFiles apiKey={apiKey} storeId={s.id} canWrite={canWrite} />,
              },
              {
                key: 'search',
                label: <span data-testid="kb-tab-search">{t('kb.search_tab')}</span>,
                children: <SearchPanel apiKey={apiKey} store={s} />,
              },
            ]}
          />
        </>
      ) : null}
    </Drawer>
  );
}
