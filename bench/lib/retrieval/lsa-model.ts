import { EigenvalueDecomposition, Matrix, QrDecomposition } from 'ml-matrix';
import { tokenizeForIndex } from '../../../apps/server/src/modules/knowledge/retrieval/index.ts';

/**
 * A classical dense embedding: latent semantic analysis (Deerwester et al. 1990) fitted on a corpus.
 * Features: the index terms (stems, jieba words) plus single Han characters, weighted
 * (1 + ln tf)·ln(N/df), each text's vector of unit length. The corpus matrix X (texts × features)
 * is factored through its Gram matrix G = XXᵀ = UΛUᵀ, truncated to the top `dims` eigenpairs by
 * randomized subspace iteration (Halko et al. 2011), the small eigenproblems by ml-matrix.
 * A text t embeds as Λ^-½ Uᵀ X x(t) (its projection on the top right singular vectors),
 * normalised: the corpus texts land on the rows of UΛ^½, queries are folded in the same way.
 */
export interface LsaModel {
  dims: number;
  embed(text: string): Float32Array;
}

const HAN = /\p{Script=Han}/u;
const STOP_CHARS = new Set('的了是在和与及之乎者也而其曰不亦所以为于'.split(''));

export function features(text: string): string[] {
  const out = tokenizeForIndex(text);
  for (const ch of text.normalize('NFKC')) if (HAN.test(ch) && !STOP_CHARS.has(ch)) out.push(`c:${ch}`);
  return out;
}

type SparseVector = { index: Int32Array; value: Float64Array };

export function fitLsa(corpus: string[], opts: { dims?: number; seed?: number } = {}): LsaModel {
  const n = corpus.length;
  const docFeatures = corpus.map(features);
  const df = new Map<string, number>();
  for (const fs of docFeatures) for (const f of new Set(fs)) df.set(f, (df.get(f) ?? 0) + 1);
  // features in one text only carry no similarity between texts
  const vocab = new Map<string, number>();
  const idf: number[] = [];
  for (const [f, d] of df) {
    if (d < 2) continue;
    vocab.set(f, vocab.size);
    idf.push(Math.log(n / d));
  }
  const vectorize = (fs: string[]): SparseVector => {
    const tf = new Map<number, number>();
    for (const f of fs) {
      const i = vocab.get(f);
      if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
    }
    const index = Int32Array.from(tf.keys());
    const value = Float64Array.from(index, (i) => (1 + Math.log(tf.get(i) ?? 1)) * (idf[i] ?? 0));
    const norm = Math.hypot(...value) || 1;
    for (let j = 0; j < value.length; j++) value[j] = (value[j] ?? 0) / norm;
    return { index, value };
  };
  const rows = docFeatures.map(vectorize);
  // postings: feature → (text, weight), for X·x products
  const postings: { doc: number[]; w: number[] }[] = Array.from({ length: vocab.size }, () => ({
    doc: [],
    w: [],
  }));
  rows.forEach((r, d) => {
    r.index.forEach((f, j) => {
      postings[f]?.doc.push(d);
      postings[f]?.w.push(r.value[j] ?? 0);
    });
  });
  const timesX = (x: SparseVector): Float64Array => {
    const s = new Float64Array(n);
    x.index.forEach((f, j) => {
      const p = postings[f];
      if (!p) return;
      const xv = x.value[j] ?? 0;
      for (let k = 0; k < p.doc.length; k++) s[p.doc[k] ?? 0] = (s[p.doc[k] ?? 0] ?? 0) + xv * (p.w[k] ?? 0);
    });
    return s;
  };
  const gram = new Matrix(n, n);
  rows.forEach((r, d) => {
    gram.setRow(d, Array.from(timesX(r)));
  });

  const dims = Math.min(opts.dims ?? 256, n - 1);
  const { vectors, values } = topEigen(gram, dims, opts.seed ?? 1);
  // the features' projections Λ^-½ Uᵀ X: a text embeds as the weighted sum of its features' rows
  const projection = new Float64Array(vocab.size * dims);
  postings.forEach((p, f) => {
    for (let j = 0; j < p.doc.length; j++) {
      const d = p.doc[j] ?? 0;
      const w = p.w[j] ?? 0;
      for (let k = 0; k < dims; k++)
        projection[f * dims + k] = (projection[f * dims + k] ?? 0) + w * vectors.get(d, k);
    }
  });
  for (let f = 0; f < vocab.size; f++) {
    for (let k = 0; k < dims; k++) {
      projection[f * dims + k] = (projection[f * dims + k] ?? 0) / Math.sqrt(Math.max(values[k] ?? 0, 1e-12));
    }
  }
  return {
    dims,
    embed(text) {
      const x = vectorize(features(text));
      const e = new Float32Array(dims);
      x.index.forEach((f, j) => {
        const w = x.value[j] ?? 0;
        for (let k = 0; k < dims; k++) e[k] = (e[k] ?? 0) + w * (projection[f * dims + k] ?? 0);
      });
      const norm = Math.hypot(...e) || 1;
      for (let k = 0; k < dims; k++) e[k] = (e[k] ?? 0) / norm;
      return e;
    },
  };
}

/** The top-k eigenpairs of a symmetric positive semi-definite matrix by randomized subspace iteration. */
function topEigen(g: Matrix, k: number, seed: number): { vectors: Matrix; values: number[] } {
  const n = g.rows;
  const width = Math.min(n, k + 16);
  let state = seed;
  const random = () => {
    // xorshift32: a fixed seed gives the same model every run
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 4294967296) * 2 - 1;
  };
  let q = new QrDecomposition(g.mmul(Matrix.from1DArray(n, width, Array.from({ length: n * width }, random))))
    .orthogonalMatrix;
  for (let i = 0; i < 2; i++) q = new QrDecomposition(g.mmul(q)).orthogonalMatrix;
  const small = q.transpose().mmul(g).mmul(q);
  const eig = new EigenvalueDecomposition(small, { assumeSymmetric: true });
  const order = eig.realEigenvalues
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, k);
  const basis = eig.eigenvectorMatrix;
  const vectors = q.mmul(new Matrix(order.map(([, i]) => basis.getColumn(i))).transpose());
  return { vectors, values: order.map(([v]) => v) };
}
