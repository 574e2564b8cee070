import { SearchOutlined } from '@ant-design/icons';
import { useMutation } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Empty,
  Input,
  InputNumber,
  Select,
  Space,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import { type Ranker, type SearchHit, searchStore, type VectorStore } from '../../lib/knowledge-bases.ts';

const RANKERS: Ranker[] = ['auto', 'none', 'default-2024-11-15'];
const score = (n: number | null) => (n === null ? '—' : n.toFixed(4));

/** Retrieval playground: a query, top k and a ranker against one store; hits with their scores. */
export function SearchPanel({ project, store }: { project: string; store: VectorStore }) {
  const t = useT();
  const errorText = useErrorText();
  const [query, setQuery] = useState('');
  const [topK, setTopK] = useState(store.retrieval.max_num_results);
  const [ranker, setRanker] = useState<Ranker>(store.retrieval.ranker);
  const search = useMutation({
    mutationFn: () =>
      searchStore(project, store.id, {
        query: query.trim(),
        max_num_results: topK,
        ranking_options: { ranker },
      }),
  });
  const run = () => query.trim() && search.mutate();

  return (
    <div data-testid="kb-search">
      <Space.Compact style={{ width: '100%', marginBottom: 12 }}>
        <Input
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onPressEnter={run}
          maxLength={4096}
          placeholder={t('kb.query_placeholder')}
          data-testid="kb-search-query"
        />
        <Button
          type="primary"
          icon={<SearchOutlined />}
          onClick={run}
          loading={search.isPending}
          disabled={!query.trim()}
          data-testid="kb-search-run"
        >
          {t('action.search')}
        </Button>
      </Space.Compact>
      <Space wrap style={{ marginBottom: 16 }}>
        <span>
          {t('kb.top_k')}{' '}
          <InputNumber
            min={1}
            max={50}
            value={topK}
            onChange={(v) => setTopK(v ?? 1)}
            data-testid="kb-search-topk"
          />
        </span>
        <span>
          {t('kb.ranker')}{' '}
          <Select<Ranker>
            value={ranker}
            onChange={setRanker}
            style={{ width: 260 }}
            options={RANKERS.map((r) => ({ value: r, label: t(`kb.ranker.${r}`) }))}
            data-testid="kb-search-ranker"
          />
        </span>
      </Space>
      {search.error ? <Alert type="error" showIcon message={errorText(search.error)} /> : null}
      {search.data ? (
        search.data.length === 0 ? (
          <Empty description={t('kb.no_hits')} data-testid="kb-search-empty" />
        ) : (
          <Space direction="vertical" style={{ width: '100%' }}>
            {search.data.map((hit, i) => (
              <HitCard key={hit.chunk_id} hit={hit} rank={i + 1} />
            ))}
          </Space>
        )
      ) : null}
    </div>
  );
}

function HitCard({ hit, rank }: { hit: SearchHit; rank: number }) {
  const t = useT();
  const b = hit.score_breakdown;
  return (
    <Card
      size="small"
      data-testid="kb-hit"
      title={
        <Space>
          <Tag>#{rank}</Tag>
          <Typography.Text strong>{hit.filename}</Typography.Text>
        </Space>
      }
      extra={
        <Space size={4}>
          <Tag color="blue" data-testid="kb-hit-score">
            {t('kb.score')} {score(hit.score)}
          </Tag>
          <Tooltip title={b.dense_rank ? t('kb.rank', { rank: b.dense_rank }) : t('kb.not_in_list')}>
            <Tag data-testid="kb-hit-dense">
              {t('kb.dense')} {score(b.dense)}
            </Tag>
          </Tooltip>
          <Tooltip title={b.lexical_rank ? t('kb.rank', { rank: b.lexical_rank }) : t('kb.not_in_list')}>
            <Tag data-testid="kb-hit-bm25">BM25 {score(b.lexical)}</Tag>
          </Tooltip>
          {b.rerank_rank ? (
            <Tooltip title={t('kb.rank', { rank: b.rerank_rank })}>
              <Tag color="purple" data-testid="kb-hit-rerank">
                {t('kb.rerank')} {score(b.rerank ?? null)}
              </Tag>
            </Tooltip>
          ) : null}
        </Space>
      }
    >
      <Typography.Paragraph
        style={{ marginBottom: 0, whiteSpace: 'pre-wrap' }}
        ellipsis={{ rows: 6, expandable: true }}
        data-testid="kb-hit-text"
      >
        {hit.content.map((c) => c.text).join('\n')}
      </Typography.Paragraph>
    </Card>
  );
}
