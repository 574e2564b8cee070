import { usageError } from '../lib/errors.ts';
import { type Column, paintStatus } from '../lib/output.ts';
import { formatBytes } from '../lib/progress-bar.ts';
import type { Runtime } from '../lib/runtime.ts';

/** What /v1/vector_stores answers, with maas's extensions (embedding model, stages, score breakdown). */

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface KnowledgeBase {
  id: string;
  name: string;
  status: string;
  created_at: number;
  usage_bytes: number;
  file_counts: FileCounts;
  embedding_model?: string;
  dimensions?: number | null;
  chunking_strategy?: {
    type: string;
    static?: { max_chunk_size_tokens: number; chunk_overlap_tokens: number };
  };
  expires_at?: number | null;
  metadata?: Record<string, string> | null;
}

export const STAGES = ['parse', 'split', 'embed', 'index'] as const;
export interface StageState {
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  count?: number;
}

export interface KnowledgeFile {
  id: string;
  filename?: string;
  status: string;
  usage_bytes: number;
  chunk_count?: number;
  last_error: { code: string; message: string } | null;
  stages?: Partial<Record<(typeof STAGES)[number], StageState>>;
  attributes?: Record<string, unknown> | null;
}

export interface SearchHit {
  file_id: string;
  filename: string;
  score: number;
  attributes?: Record<string, unknown> | null;
  content: { type: string; text: string }[];
  score_breakdown?: {
    dense: number | null;
    lexical: number | null;
    dense_rank: number | null;
    lexical_rank: number | null;
    rerank?: number | null;
    rerank_rank?: number | null;
  } & Record<string, unknown>;
}

const unixTime = (s: number | null | undefined) => (s ? new Date(s * 1000).toISOString() : null);
const paint = (t: string, c: Parameters<typeof paintStatus>[1]) =>
  t === 'completed' ? c.green(t) : paintStatus(t, c);
const countsOf = (k: KnowledgeBase) => {
  const n = k.file_counts;
  return `${n.completed}/${n.total}${n.in_progress ? `, ${n.in_progress} in progress` : ''}${n.failed ? `, ${n.failed} failed` : ''}`;
};
const chunkingOf = (k: KnowledgeBase) =>
  k.chunking_strategy?.static
    ? `${k.chunking_strategy.static.max_chunk_size_tokens} tokens, overlap ${k.chunking_strategy.static.chunk_overlap_tokens}`
    : (k.chunking_strategy?.type ?? null);

export const kbColumns: Column<KnowledgeBase>[] = [
  { header: 'id', value: (k) => k.id },
  { header: 'name', value: (k) => k.name },
  { header: 'status', value: (k) => k.status, paint: (t, _k, c) => paint(t, c) },
  { header: 'files', value: countsOf },
  { header: 'size', value: (k) => formatBytes(k.usage_bytes) },
  { header: 'model', value: (k) => k.embedding_model },
  { header: 'created', value: (k) => unixTime(k.created_at) },
];

export function showKnowledgeBase(rt: Runtime, k: KnowledgeBase): void {
  rt.out.print(k, () =>
    rt.out.fields([
      ['id', k.id],
      ['name', k.name],
      ['status', k.status],
      [
        'files',
        `${k.file_counts.total} total, ${k.file_counts.completed} completed, ${k.file_counts.in_progress} in progress, ${k.file_counts.failed} failed, ${k.file_counts.cancelled} cancelled`,
      ],
      ['size', formatBytes(k.usage_bytes)],
      ['embedding model', k.embedding_model],
      ['dimensions', k.dimensions],
      ['chunking', chunkingOf(k)],
      ['created', unixTime(k.created_at)],
      ['expires', unixTime(k.expires_at) ?? 'never'],
      ['metadata', k.metadata && Object.keys(k.metadata).length ? k.metadata : null],
    ]),
  );
}

/** The stage a file is in (`embed`), or the one it failed at, or `done`. */
export function stageOf(f: KnowledgeFile): string {
  const stages = f.stages ?? {};
  const failed = STAGES.find((s) => stages[s]?.error);
  if (failed) return failed;
  const running = STAGES.find((s) => stages[s]?.started_at && !stages[s]?.finished_at);
  if (running) return running;
  if (f.status === 'completed') return 'done';
  return STAGES.find((s) => !stages[s]?.finished_at) ?? 'queued';
}

/** `parse 0.2s, split 0.0s, embed 1.3s` — each stage that ran, with how long it took. */
export function stageTimes(f: KnowledgeFile): string {
  const parts: string[] = [];
  for (const s of STAGES) {
    const st = f.stages?.[s];
    if (!st?.started_at) continue;
    const secs = st.finished_at ? `${(st.finished_at - st.started_at).toFixed(0)}s` : '…';
    parts.push(`${s} ${secs}${st.error ? ' ✗' : ''}`);
  }
  return parts.join(', ');
}

export const errorOf = (f: KnowledgeFile) =>
  f.last_error ? `${f.last_error.code}: ${f.last_error.message}` : null;

export const fileColumns: Column<KnowledgeFile>[] = [
  { header: 'file', value: (f) => f.id },
  { header: 'filename', value: (f) => f.filename },
  { header: 'status', value: (f) => f.status, paint: (t, _f, c) => paint(t, c) },
  { header: 'stage', value: stageOf },
  { header: 'stages', value: stageTimes },
  { header: 'chunks', value: (f) => f.chunk_count },
  { header: 'error', value: errorOf },
];

const num = (n: number | null | undefined, digits = 3) =>
  n === null || n === undefined ? '-' : n.toFixed(digits);
const snippet = (h: SearchHit) => {
  const text = h.content
    .map((c) => c.text)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
};

export const hitColumns: Column<SearchHit>[] = [
  { header: 'score', value: (h) => num(h.score) },
  {
    header: 'dense',
    value: (h) => `${num(h.score_breakdown?.dense)} #${h.score_breakdown?.dense_rank ?? '-'}`,
  },
  {
    header: 'lexical',
    value: (h) => `${num(h.score_breakdown?.lexical)} #${h.score_breakdown?.lexical_rank ?? '-'}`,
  },
  {
    header: 'rerank',
    value: (h) =>
      h.score_breakdown?.rerank_rank
        ? `${num(h.score_breakdown.rerank)} #${h.score_breakdown.rerank_rank}`
        : '-',
  },
  { header: 'file', value: (h) => h.filename || h.file_id },
  { header: 'text', value: snippet },
];

type Scalar = string | number | boolean;
type Comparison = { type: 'eq'; key: string; value: Scalar };

/** `key=value` (numbers and true/false typed; `key="2024"` keeps a string) → an attribute filter. */
export function filterOf(
  pairs: string[] | undefined,
): Comparison | { type: 'and'; filters: Comparison[] } | undefined {
  if (!pairs?.length) return undefined;
  const filters = pairs.map((pair): Comparison => {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`--filter wants key=value, got "${pair}"`);
    const raw = pair.slice(eq + 1);
    let value: Scalar = raw;
    if (/^".*"$/.test(raw)) value = raw.slice(1, -1);
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (raw.trim() !== '' && Number.isFinite(Number(raw))) value = Number(raw);
    return { type: 'eq', key: pair.slice(0, eq), value };
  });
  return filters.length === 1 ? filters[0] : { type: 'and', filters };
}
