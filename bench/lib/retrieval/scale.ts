import type { DbOrTx } from '../../../apps/server/src/db/client.ts';
import {
  indexChunkTerms,
  lexicalSearch,
} from '../../../apps/server/src/modules/knowledge/retrieval/index.ts';
import type { Passage, Query } from './dataset.ts';
import { percentile } from './metrics.ts';

const STORE = 'vs_bench_scale';
const BATCH = 500;

/**
 * Synthetic chunks for the scale figure: each joins 4 sentences drawn at random (fixed seed) from
 * the labelled passages, so term statistics look like the real text (Zipf-like, both languages).
 */
export function* syntheticChunks(
  passages: Passage[],
  count: number,
): Generator<{ id: string; text: string }> {
  const sentences = passages.flatMap((p) =>
    p.text.split(/(?<=[.;:!?。；！？])\s*/).filter((s) => s.length > 3),
  );
  let state = 7;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  for (let i = 0; i < count; i++) {
    const parts = Array.from({ length: 4 }, () => sentences[next() % sentences.length]);
    yield { id: `syn-${i}`, text: parts.join(' ') };
  }
}

/** ingestion docs/s (index terms) and BM25 p50/p95 over the labelled queries, at `count` chunks */
export async function measureScale(
  db: DbOrTx,
  passages: Passage[],
  queries: Query[],
  count: number,
  log: (...parts: unknown[]) => void,
): Promise<{ chunks: number; docs_per_s: number; p50_ms: number; p95_ms: number; mean_terms: number }> {
  let batch: { id: string; text: string }[] = [];
  let indexed = 0;
  let chars = 0;
  const t0 = performance.now();
  for (const chunk of syntheticChunks(passages, count)) {
    batch.push(chunk);
    chars += chunk.text.length;
    if (batch.length === BATCH) {
      await indexChunkTerms(db, STORE, batch);
      indexed += batch.length;
      batch = [];
      if (indexed % 20_000 === 0)
        log(`  scale: ${indexed} chunks indexed (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }
  if (batch.length) await indexChunkTerms(db, STORE, batch);
  const seconds = (performance.now() - t0) / 1000;
  const docsPerS = count / seconds;
  log(
    `\nscale: ${count} synthetic chunks (mean ${(chars / count).toFixed(0)} chars) indexed at ${docsPerS.toFixed(0)} docs/s`,
  );
  const latency: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await lexicalSearch(db, [STORE], q.text, 10);
    latency.push(performance.now() - t);
  }
  latency.sort((a, b) => a - b);
  const p50 = percentile(latency, 50);
  const p95 = percentile(latency, 95);
  log(
    `  BM25 top-10 latency at ${count} chunks (${queries.length} queries): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`,
  );
  return { chunks: count, docs_per_s: docsPerS, p50_ms: p50, p95_ms: p95, mean_terms: chars / count };
}
