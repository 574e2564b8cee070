import {
  type FusedHit,
  fuseReciprocalRank,
  fuseWeighted,
  type Hit,
  type Normalization,
} from '../../../apps/server/src/modules/knowledge/retrieval/fusion.ts';
import { fuseHits } from '../../../apps/server/src/modules/knowledge/retrieval/index.ts';
import type { Query } from './dataset.ts';
import { mean, ndcgAt, recallAt } from './metrics.ts';

export interface Runs {
  dense: Map<string, Hit[]>;
  lexical: Map<string, Hit[]>;
}
export interface Scores {
  ndcg10: number;
  recall10: number;
  by_lang: Record<string, { ndcg10: number; recall10: number; queries: number }>;
}
export type Method = { name: string; rank: (dense: Hit[], lexical: Hit[]) => (Hit | FusedHit)[] };

export function score(queries: Query[], rankingOf: (q: Query) => string[]): Scores {
  const per = queries.map((q) => {
    const ranking = rankingOf(q);
    return { lang: q.lang, ndcg: ndcgAt(10, ranking, q.relevant), recall: recallAt(10, ranking, q.relevant) };
  });
  const by_lang: Scores['by_lang'] = {};
  for (const lang of [...new Set(per.map((p) => p.lang))].sort()) {
    const of = per.filter((p) => p.lang === lang);
    by_lang[lang] = {
      ndcg10: mean(of.map((p) => p.ndcg)),
      recall10: mean(of.map((p) => p.recall)),
      queries: of.length,
    };
  }
  return { ndcg10: mean(per.map((p) => p.ndcg)), recall10: mean(per.map((p) => p.recall)), by_lang };
}

export function evaluate(queries: Query[], runs: Runs, method: Method): Scores {
  return score(queries, (q) =>
    method.rank(runs.dense.get(q.id) ?? [], runs.lexical.get(q.id) ?? []).map((h) => h.chunkId),
  );
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The fusion variants compared: RRF and weighted fusion (min-max, z-score), each over a grid of weights. */
export function fusionGrid(): Method[] {
  const methods: Method[] = [];
  for (let i = 0; i <= 10; i++) {
    const wd = round(i / 10);
    const wl = round(1 - wd);
    for (const normalization of ['min-max', 'z-score'] as Normalization[]) {
      methods.push({
        name: `weighted ${normalization} dense=${wd} lexical=${wl}`,
        rank: (d, l) => fuseWeighted(d, l, { denseWeight: wd, lexicalWeight: wl, normalization }),
      });
    }
    methods.push({
      name: `rrf k=60 dense=${wd} lexical=${wl}`,
      rank: (d, l) => fuseReciprocalRank(d, l, { denseWeight: wd, lexicalWeight: wl }),
    });
  }
  return methods;
}

export const DENSE: Method = { name: 'dense', rank: (d) => d };
export const BM25: Method = { name: 'bm25', rank: (_d, l) => l };
export const HYBRID_DEFAULT: Method = { name: 'hybrid (fuseHits defaults)', rank: (d, l) => fuseHits(d, l) };
export const RRF_PLAIN: Method = {
  name: 'rrf k=60 (equal weights)',
  rank: (d, l) => fuseReciprocalRank(d, l),
};

/** The grid's best method by nDCG@10 on the given queries. */
export function best(
  queries: Query[],
  runs: Runs,
  methods: Method[],
  family?: string,
): { method: Method; scores: Scores } {
  let top: { method: Method; scores: Scores } | undefined;
  for (const method of methods) {
    if (family && !method.name.startsWith(family)) continue;
    const scores = evaluate(queries, runs, method);
    if (!top || scores.ndcg10 > top.scores.ndcg10) top = { method, scores };
  }
  if (!top) throw new Error(`no method of ${family}`);
  return top;
}

/**
 * Two-fold cross-validation of the tuning: weights chosen on half the queries (odd / even), scored
 * on the other half; the mean of both folds says how much of the gain survives unseen queries.
 */
export function crossValidated(
  queries: Query[],
  runs: Runs,
  methods: Method[],
  family: string,
): Scores & { picks: string[] } {
  const folds = [queries.filter((_, i) => i % 2 === 0), queries.filter((_, i) => i % 2 === 1)];
  const picks: string[] = [];
  const rankings = new Map<string, string[]>();
  const [odd = [], even = []] = folds;
  for (const [tuneOn, testOn] of [
    [odd, even],
    [even, odd],
  ] as const) {
    const { method } = best(tuneOn, runs, methods, family);
    picks.push(method.name);
    for (const q of testOn) {
      rankings.set(
        q.id,
        method.rank(runs.dense.get(q.id) ?? [], runs.lexical.get(q.id) ?? []).map((h) => h.chunkId),
      );
    }
  }
  return { ...score(queries, (q) => rankings.get(q.id) ?? []), picks };
}
