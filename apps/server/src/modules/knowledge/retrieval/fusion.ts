export interface Hit {
  chunkId: string;
  score: number;
}

export interface FusedHit {
  chunkId: string;
  score: number;
  breakdown: {
    /** the hit's dense (vector similarity) score, null when dense search did not return it */
    dense: number | null;
    lexical: number | null;
    /** 1-based rank in each list */
    dense_rank: number | null;
    lexical_rank: number | null;
  };
}

export type Normalization = 'min-max' | 'z-score';

/**
 * The defaults, chosen on the shipped labelled set (`npm run bench:retrieval`, README "Retrieval
 * quality"): weighted fusion of min-max normalised scores beat reciprocal-rank fusion there, and
 * 0.3 dense / 0.7 lexical was its best split (also when tuned on half the queries and scored on the
 * other half). Tuned with the bench's LSA embeddings: a stronger embedding model deserves more dense
 * weight, which callers can pass.
 */
export const DEFAULT_DENSE_WEIGHT = 0.3;
export const DEFAULT_LEXICAL_WEIGHT = 0.7;
export const DEFAULT_NORMALIZATION: Normalization = 'min-max';
/** RRF's constant (Cormack et al. 2009) */
export const RRF_K = 60;

function normalize(hits: Hit[], how: Normalization): Map<string, number> {
  const out = new Map<string, number>();
  if (hits.length === 0) return out;
  const scores = hits.map((h) => h.score);
  if (how === 'min-max') {
    const min = Math.min(...scores);
    const span = Math.max(...scores) - min;
    // one hit, or all equal: each is as good as the best
    for (const h of hits) out.set(h.chunkId, span > 0 ? (h.score - min) / span : 1);
    return out;
  }
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, s) => a + (s - mean) ** 2, 0) / scores.length);
  for (const h of hits) out.set(h.chunkId, sd > 0 ? (h.score - mean) / sd : 0);
  return out;
}

/** The union of both lists, each hit with its original scores and ranks (first occurrence kept). */
function collect(dense: Hit[], lexical: Hit[]): Map<string, FusedHit> {
  const all = new Map<string, FusedHit>();
  const entry = (chunkId: string) => {
    let hit = all.get(chunkId);
    if (!hit) {
      hit = {
        chunkId,
        score: 0,
        breakdown: { dense: null, lexical: null, dense_rank: null, lexical_rank: null },
      };
      all.set(chunkId, hit);
    }
    return hit;
  };
  dense.forEach((h, i) => {
    const e = entry(h.chunkId);
    if (e.breakdown.dense_rank === null) Object.assign(e.breakdown, { dense: h.score, dense_rank: i + 1 });
  });
  lexical.forEach((h, i) => {
    const e = entry(h.chunkId);
    if (e.breakdown.lexical_rank === null)
      Object.assign(e.breakdown, { lexical: h.score, lexical_rank: i + 1 });
  });
  return all;
}

function ranked(hits: Iterable<FusedHit>): FusedHit[] {
  return [...hits].sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1));
}

/**
 * Weighted fusion of normalised scores: each list's scores are normalised (min-max to [0, 1], or
 * z-scores), a hit missing from a list gets that list's floor (0 for min-max, the lowest z-score
 * for z-score), and the fused score is denseWeight·dense + lexicalWeight·lexical. Lists are best first.
 */
export function fuseWeighted(
  dense: Hit[],
  lexical: Hit[],
  opts: { denseWeight?: number; lexicalWeight?: number; normalization?: Normalization } = {},
): FusedHit[] {
  const wd = opts.denseWeight ?? DEFAULT_DENSE_WEIGHT;
  const wl = opts.lexicalWeight ?? DEFAULT_LEXICAL_WEIGHT;
  const how = opts.normalization ?? DEFAULT_NORMALIZATION;
  const nd = normalize(dense, how);
  const nl = normalize(lexical, how);
  const floor = (m: Map<string, number>) => (how === 'min-max' || m.size === 0 ? 0 : Math.min(...m.values()));
  const fd = floor(nd);
  const fl = floor(nl);
  const all = collect(dense, lexical);
  for (const hit of all.values()) {
    hit.score = wd * (nd.get(hit.chunkId) ?? fd) + wl * (nl.get(hit.chunkId) ?? fl);
  }
  return ranked(all.values());
}

/** Reciprocal-rank fusion: Σ weight / (k + rank) over the lists that hold the hit. */
export function fuseReciprocalRank(
  dense: Hit[],
  lexical: Hit[],
  opts: { denseWeight?: number; lexicalWeight?: number; k?: number } = {},
): FusedHit[] {
  const k = opts.k ?? RRF_K;
  const wd = opts.denseWeight ?? 1;
  const wl = opts.lexicalWeight ?? 1;
  const all = collect(dense, lexical);
  for (const hit of all.values()) {
    const { dense_rank, lexical_rank } = hit.breakdown;
    hit.score = (dense_rank ? wd / (k + dense_rank) : 0) + (lexical_rank ? wl / (k + lexical_rank) : 0);
  }
  return ranked(all.values());
}

/** The hybrid ranking maas uses: weighted fusion with the defaults above (weights overridable). */
export function fuseHits(
  dense: Hit[],
  lexical: Hit[],
  opts: { denseWeight?: number; lexicalWeight?: number } = {},
): FusedHit[] {
  return fuseWeighted(dense, lexical, { ...opts, normalization: DEFAULT_NORMALIZATION });
}
