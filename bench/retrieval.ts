import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { openDatabase } from '../apps/server/src/db/client.ts';
import { indexChunkTerms, lexicalSearch } from '../apps/server/src/modules/knowledge/retrieval/index.ts';
import { loadLabelledSet, type Passage } from './lib/retrieval/dataset.ts';
import { measureDenseScale } from './lib/retrieval/dense-scale.ts';
import { startEmbeddingServer } from './lib/retrieval/embedding-server.ts';
import {
  BM25,
  best,
  crossValidated,
  DENSE,
  evaluate,
  fusionGrid,
  HYBRID_DEFAULT,
  RRF_PLAIN,
  type Runs,
  type Scores,
} from './lib/retrieval/evaluate.ts';
import { fitLsa } from './lib/retrieval/lsa-model.ts';
import { percentile } from './lib/retrieval/metrics.ts';
import { measureScale } from './lib/retrieval/scale.ts';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '100000' },
    /** chunks for the dense figure (0: none) */
    'dense-scale': { type: 'string', default: '100000' },
    /** skip the BM25 scale figure (it takes minutes at 100k) */
    'no-lexical-scale': { type: 'boolean', default: false },
    dims: { type: 'string', default: '256' },
    depth: { type: 'string', default: '100' },
    out: { type: 'string', default: 'bench/results/retrieval.json' },
  },
});
const DEPTH = Number(args.depth);
const STORE = 'vs_bench_labelled';
const MODEL = 'lsa-bench';

const log = (...parts: unknown[]) => console.log(...parts);
const ms = (t0: number) => performance.now() - t0;

async function main() {
  const { passages, queries } = loadLabelledSet();
  log(`labelled set: ${passages.length} passages, ${queries.length} queries (bench/data/retrieval)`);

  const database = await openDatabase({ dataDir: 'memory://' });
  await database.migrate();
  try {
    // lexical index of the labelled set
    let t0 = performance.now();
    for (let i = 0; i < passages.length; i += 50) {
      await indexChunkTerms(
        database.db,
        STORE,
        passages.slice(i, i + 50).map((p) => ({ id: p.id, text: p.text })),
      );
    }
    const labelledIngest = passages.length / (ms(t0) / 1000);
    log(`BM25 index: ${passages.length} passages at ${labelledIngest.toFixed(0)} docs/s`);

    // dense: LSA fitted on the passages, served as /v1/embeddings, called with the openai SDK
    t0 = performance.now();
    const model = fitLsa(
      passages.map((p) => p.text),
      { dims: Number(args.dims) },
    );
    log(`LSA model: ${model.dims} dimensions, fitted in ${(ms(t0) / 1000).toFixed(1)} s`);
    const server = await startEmbeddingServer(model, MODEL);
    const client = new OpenAI({ baseURL: server.url, apiKey: 'unused' });
    const embed = async (texts: string[]) => {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += 128) {
        const r = await client.embeddings.create({
          model: MODEL,
          input: texts.slice(i, i + 128),
          encoding_format: 'float',
        });
        out.push(...r.data.sort((a, b) => a.index - b.index).map((d) => d.embedding));
      }
      return out;
    };
    t0 = performance.now();
    const passageVectors = await embed(passages.map((p) => p.text));
    const queryVectors = await embed(queries.map((q) => q.text));
    log(`embedded ${passages.length + queries.length} texts in ${(ms(t0) / 1000).toFixed(1)} s`);

    const runs: Runs = { dense: new Map(), lexical: new Map() };
    const lexicalLatency: number[] = [];
    for (const [qi, q] of queries.entries()) {
      runs.dense.set(q.id, exactNearest(queryVectors[qi] ?? [], passageVectors, passages, DEPTH));
      const t = performance.now();
      runs.lexical.set(q.id, await lexicalSearch(database.db, [STORE], q.text, DEPTH));
      lexicalLatency.push(ms(t));
    }
    lexicalLatency.sort((a, b) => a - b);

    const grid = fusionGrid();
    const figures = {
      dense: evaluate(queries, runs, DENSE),
      bm25: evaluate(queries, runs, BM25),
      hybrid: evaluate(queries, runs, HYBRID_DEFAULT),
      rrf_equal: evaluate(queries, runs, RRF_PLAIN),
    };
    const families = ['weighted min-max', 'weighted z-score', 'rrf'].map((family) => ({
      family,
      best: best(queries, runs, grid, family),
      cross_validated: crossValidated(queries, runs, grid, family),
    }));
    const gridScores = grid.map((m) => ({ method: m.name, ...evaluate(queries, runs, m) }));

    log('\nquality on the labelled set (nDCG@10 / recall@10; en | zh):');
    const row = (name: string, s: Scores) =>
      log(
        `  ${name.padEnd(44)} ${s.ndcg10.toFixed(3)} / ${s.recall10.toFixed(3)}   en ${fmt(s, 'en')} | zh ${fmt(s, 'zh')}`,
      );
    row('dense (LSA, exact cosine)', figures.dense);
    row('BM25', figures.bm25);
    row('hybrid: fuseHits defaults', figures.hybrid);
    row('RRF k=60, equal weights', figures.rrf_equal);
    for (const f of families) {
      row(`best ${f.best.method.name}`, f.best.scores);
      row(`  ${f.family}, 2-fold cross-validated`, f.cross_validated);
    }
    log(
      `  ratios: hybrid/dense nDCG ${(figures.hybrid.ndcg10 / figures.dense.ndcg10).toFixed(2)}×, hybrid/BM25 ${(figures.hybrid.ndcg10 / figures.bm25.ndcg10).toFixed(2)}×`,
    );
    const labelledLatency = { p50: percentile(lexicalLatency, 50), p95: percentile(lexicalLatency, 95) };
    log(
      `  BM25 latency at ${passages.length} chunks: p50 ${labelledLatency.p50.toFixed(1)} ms, p95 ${labelledLatency.p95.toFixed(1)} ms`,
    );

    const denseCount = Number(args['dense-scale']);
    const denseScale =
      denseCount > 0
        ? await measureDenseScale(database.db, passages, queryVectors, denseCount, embed, log)
        : null;
    await server.close();

    const scale = args['no-lexical-scale']
      ? null
      : await measureScale(database.db, passages, queries, Number(args.scale), log);
    if (scale)
      log(
        `  ratios at ${scale.chunks} vs ${passages.length} chunks: p50 ${(scale.p50_ms / labelledLatency.p50).toFixed(1)}×, p95 ${(scale.p95_ms / labelledLatency.p95).toFixed(1)}×; ingestion ${(scale.docs_per_s / labelledIngest).toFixed(2)}×`,
      );

    const result = {
      when: new Date().toISOString(),
      database: 'PGlite (in memory)',
      labelled_set: { passages: passages.length, queries: queries.length },
      dense_model: `LSA ${model.dims} dims fitted on the passages, served by a local /v1/embeddings`,
      figures,
      families: families.map((f) => ({
        family: f.family,
        best: f.best.method.name,
        best_scores: f.best.scores,
        cross_validated: f.cross_validated,
      })),
      grid: gridScores,
      labelled_ingest_docs_per_s: labelledIngest,
      labelled_lexical_latency_ms: labelledLatency,
      scale,
      dense_scale: denseScale,
    };
    await mkdir(dirname(args.out), { recursive: true });
    await writeFile(args.out, `${JSON.stringify(result, null, 2)}\n`);
    log(`\nwrote ${args.out}`);
  } finally {
    await database.close();
  }
}

function fmt(s: Scores, lang: string): string {
  const l = s.by_lang[lang];
  return l ? `${l.ndcg10.toFixed(3)}/${l.recall10.toFixed(3)}` : '-';
}

/** Exact nearest neighbours by cosine (vectors are unit length): what an HNSW index approximates. */
function exactNearest(q: number[], vectors: number[][], passages: Passage[], k: number) {
  const scored = vectors.map((v, i) => {
    let dot = 0;
    for (let j = 0; j < v.length; j++) dot += (v[j] ?? 0) * (q[j] ?? 0);
    return { chunkId: passages[i]?.id ?? '', score: dot };
  });
  return scored.sort((a, b) => b.score - a.score).slice(0, k);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
