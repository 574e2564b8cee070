import { useQuery } from '@tanstack/react-query';
import { List, Spin, Typography } from 'antd';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { fileChunks } from '../../lib/knowledge-bases.ts';

/** The chunks a file was split into, in order (the chunk browser). */
export function ChunkList({
  project,
  storeId,
  fileId,
}: {
  project: string;
  storeId: string;
  fileId: string;
}) {
  const t = useT();
  const chunks = useQuery({
    queryKey: ['kb-chunks', project, storeId, fileId],
    queryFn: () => fileChunks(project, storeId, fileId),
    retry: false,
  });
  if (chunks.isLoading) return <Spin size="small" />;
  if (chunks.error) return <ErrorAlert error={chunks.error} onRetry={() => chunks.refetch()} />;
  return (
    <List
      size="small"
      data-testid="kb-chunks"
      dataSource={(chunks.data ?? []).map((c, i) => ({ ...c, n: i + 1 }))}
      pagination={(chunks.data?.length ?? 0) > 10 ? { pageSize: 10, size: 'small' } : false}
      renderItem={(c) => (
        <List.Item>
          <Typography.Paragraph
            style={{ marginBottom: 0, whiteSpace: 'pre-wrap' }}
            ellipsis={{ rows: 4, expandable: true }}
          >
            <Typography.Text type="secondary">{t('kb.chunk_n', { n: c.n })} · </Typography.Text>
            {c.text}
          </Typography.Paragraph>
        </List.Item>
      )}
    />
  );
}
