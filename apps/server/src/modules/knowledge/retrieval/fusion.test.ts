import { describe, expect, it } from 'vitest';
import { fuseHits, fuseReciprocalRank, fuseWeighted } from './fusion.ts';

const dense = [
  { chunkId: 'a', score: 0.9 },
  { chunkId: 'b', score: 0.7 },
  { chunkId: 'c', score: 0.5 },
];
const lexical = [
  { chunkId: 'c', score: 12 },
  { chunkId: 'd', score: 8 },
  { chunkId: 'a', score: 4 },
];

describe('fuseWeighted (min-max)', () => {
  it('normalises each list to [0, 1] and weighs them; a hit missing from a list gets 0 there', () => {
    const hits = fuseWeighted(dense, lexical, {
      denseWeight: 0.5,
      lexicalWeight: 0.5,
      normalization: 'min-max',
    });
    // dense a 1, b 0.5, c 0; lexical c 1, d 0.5, a 0
    expect(Object.fromEntries(hits.map((h) => [h.chunkId, Number(h.score.toFixed(9))]))).toEqual({
      a: 0.5,
      c: 0.5,
      b: 0.25,
      d: 0.25,
    });
    expect(hits.slice(0, 2).map((h) => h.chunkId)).toEqual(['a', 'c']);
  });

  it('reports each hit’s original scores and ranks', () => {
    const byId = new Map(fuseWeighted(dense, lexical).map((h) => [h.chunkId, h.breakdown]));
    expect(byId.get('c')).toEqual({ dense: 0.5, lexical: 12, dense_rank: 3, lexical_rank: 1 });
    expect(byId.get('d')).toEqual({ dense: null, lexical: 8, dense_rank: null, lexical_rank: 2 });
    expect(byId.get('b')).toEqual({ dense: 0.7, lexical: null, dense_rank: 2, lexical_rank: null });
  });

  it('weights move the ranking', () => {
    expect(fuseWeighted(dense, lexical, { denseWeight: 0.9, lexicalWeight: 0.1 })[0]?.chunkId).toBe('a');
    expect(fuseWeighted(dense, lexical, { denseWeight: 0.1, lexicalWeight: 0.9 })[0]?.chunkId).toBe('c');
  });

  it('a single hit or equal scores count as the best; empty lists fuse to the other list', () => {
    expect(
      fuseWeighted([{ chunkId: 'x', score: 0.2 }], [], { denseWeight: 0.6, lexicalWeight: 0.4 }),
    ).toEqual([
      {
        chunkId: 'x',
        score: 0.6,
        breakdown: { dense: 0.2, lexical: null, dense_rank: 1, lexical_rank: null },
      },
    ]);
    expect(fuseWeighted([], [])).toEqual([]);
  });
});

describe('fuseWeighted (z-score)', () => {
  it('uses z-scores, and a list’s lowest z-score for a hit it lacks', () => {
    const hits = fuseWeighted(dense, lexical, { denseWeight: 1, lexicalWeight: 1, normalization: 'z-score' });
    // dense z: a 1.224745, b 0, c −1.224745; lexical z: c 1.224745, d 0, a −1.224745
    const score = new Map(hits.map((h) => [h.chunkId, h.score]));
    expect(score.get('a')).toBeCloseTo(0, 9);
    expect(score.get('c')).toBeCloseTo(0, 9);
    expect(score.get('b')).toBeCloseTo(-1.224745, 5);
    expect(score.get('d')).toBeCloseTo(-1.224745, 5);
  });
});

describe('fuseReciprocalRank', () => {
  it('sums weight / (k + rank)', () => {
    const hits = fuseReciprocalRank(dense, lexical, { k: 60 });
    const score = new Map(hits.map((h) => [h.chunkId, h.score]));
    expect(score.get('a')).toBeCloseTo(1 / 61 + 1 / 63, 12);
    expect(score.get('c')).toBeCloseTo(1 / 63 + 1 / 61, 12);
    expect(score.get('b')).toBeCloseTo(1 / 62, 12);
    expect(hits.map((h) => h.chunkId)).toEqual(['a', 'c', 'b', 'd']);
  });
});

describe('fuseHits', () => {
  it('is the weighted fusion with the chosen defaults, and keeps a hit once when a list repeats it', () => {
    expect(fuseHits(dense, lexical)).toEqual(fuseWeighted(dense, lexical));
    const hits = fuseHits([...dense, { chunkId: 'a', score: 0.1 }], lexical);
    expect(hits.filter((h) => h.chunkId === 'a')).toHaveLength(1);
    expect(hits.find((h) => h.chunkId === 'a')?.breakdown.dense_rank).toBe(1);
  });
});
