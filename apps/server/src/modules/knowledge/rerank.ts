import { AppError, type ErrorCode } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { GatewayContext } from '../gateway/index.ts';
import { runInternal } from '../gateway/index.ts';

export interface Reranked {
  /** the document's position in the input */
  index: number;
  /** the model's relevance score, as it answered it */
  raw: number;
  /** the score a hit carries: the raw score, or its logistic when the model answers logits */
  score: number;
}

/** how a gateway refusal of the rerank call reads to the searcher */
function codeFor(status: number): ErrorCode {
  if (status === 400 || status === 422) return 'validation_failed';
  if (status === 401 || status === 403) return 'forbidden';
  if (status === 404) return 'model_not_found';
  if (status === 429) return 'rate_limit_exceeded';
  if (status === 503) return 'service_unavailable';
  if (status === 504) return 'upstream_timeout';
  return 'upstream_error';
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Scores `documents` against `query` through /v1/rerank as `key` (the gateway's admission, model
 * access, limits and metering, like live traffic). Cohere/Jina/vLLM answer 0..1; llama.cpp answers
 * logits, which are mapped through the logistic so that `score_threshold` keeps its 0..1 meaning.
 */
export async function rerankTexts(
  gw: GatewayContext,
  key: KeyPrincipal,
  model: string,
  query: string,
  documents: string[],
): Promise<Reranked[]> {
  if (documents.length === 0) return [];
  const res = await runInternal(gw, {
    key,
    endpoint: 'rerank',
    body: { model, query, documents, top_n: documents.length },
    requestId: newId('req'),
  });
  if (res.status !== 200) {
    const err = (res.body as { error?: { message?: string } } | null)?.error;
    throw new AppError(
      codeFor(res.status),
      `The rerank model '${model.slice(0, 100)}' refused the search: ${err?.message ?? `HTTP ${res.status}`}`,
      undefined,
      { status: res.status >= 400 && res.status < 600 ? res.status : 502, param: 'ranking_options.ranker' },
    );
  }
  const results = (res.body as { results?: unknown } | null)?.results;
  const seen = new Set<number>();
  const out: { index: number; raw: number }[] = [];
  if (Array.isArray(results))
    for (const r of results as { index?: unknown; relevance_score?: unknown; score?: unknown }[]) {
      const raw = typeof r?.relevance_score === 'number' ? r.relevance_score : r?.score;
      if (
        typeof r?.index !== 'number' ||
        !Number.isInteger(r.index) ||
        r.index < 0 ||
        r.index >= documents.length ||
        seen.has(r.index) ||
        typeof raw !== 'number' ||
        !Number.isFinite(raw)
      )
        throw new AppError(
          'upstream_error',
          `The rerank model '${model.slice(0, 100)}' answered results that do not match the documents.`,
        );
      seen.add(r.index);
      out.push({ index: r.index, raw });
    }
  if (out.length === 0)
    throw new AppError('upstream_error', `The rerank model '${model.slice(0, 100)}' answered no results.`);
  const probabilities = out.every((r) => r.raw >= 0 && r.raw <= 1);
  return out
    .map((r) => ({ ...r, score: probabilities ? r.raw : logistic(r.raw) }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}
