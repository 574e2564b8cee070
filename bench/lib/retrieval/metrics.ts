/** nDCG@k with binary or graded labels (gain = relevance, log2 discount), 0 when nothing is relevant. */
export function ndcgAt(k: number, ranking: string[], relevant: Map<string, number>): number {
  let dcg = 0;
  ranking.slice(0, k).forEach((id, i) => {
    dcg += (relevant.get(id) ?? 0) / Math.log2(i + 2);
  });
  const ideal = [...relevant.values()].sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((a, g, i) => a + g / Math.log2(i + 2), 0);
  return idcg > 0 ? dcg / idcg : 0;
}

/** the share of the relevant items found in the first k */
export function recallAt(k: number, ranking: string[], relevant: Map<string, number>): number {
  if (relevant.size === 0) return 0;
  return ranking.slice(0, k).filter((id) => (relevant.get(id) ?? 0) > 0).length / relevant.size;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
