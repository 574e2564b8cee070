import type { KeyPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { Endpoint, GatewayContext } from '../gateway/index.ts';
import { runInternal } from '../gateway/index.ts';
import type { ClaimedLine, LineResult } from './line-store.ts';

const ENDPOINT: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat.completions',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
};

/** Refusals that say "later", not "no": our own limits, an upstream out of capacity. */
const TRANSIENT = new Set([429, 503]);
export const MAX_LINE_ATTEMPTS = 5;

/** `batch_req_…`, the id of one line's answer. */
const newLineId = () => `batch_req_${newId('req').slice(4)}`;

/**
 * One line through the gateway path as the batch's key, drawing on the batch's quota hold and
 * priced with the batch discount; its usage event is kept for the commit instead of going to the
 * shared writer.
 */
export async function runLine(
  gw: GatewayContext,
  key: KeyPrincipal,
  endpoint: string,
  line: ClaimedLine,
): Promise<LineResult> {
  const requestId = newId('req');
  const res = await runInternal(gw, {
    key,
    endpoint: ENDPOINT[endpoint]!,
    body: line.body,
    requestId,
    captureUsage: true,
    batchId: line.batchId,
  });
  const base = { batchId: line.batchId, line: line.line };
  if (TRANSIENT.has(res.status) && line.attempts + 1 < MAX_LINE_ATTEMPTS) {
    return { ...base, state: 'retry', result: null, usage: null, retryInMs: 1000 * 2 ** line.attempts };
  }
  const usage = res.usage;
  const response = { status_code: res.status, request_id: requestId, body: res.body };
  if (res.status < 400)
    return {
      ...base,
      state: 'completed',
      usage,
      result: { id: newLineId(), custom_id: line.customId, response, error: null },
    };
  const err = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
  return {
    ...base,
    state: 'failed',
    usage,
    result: {
      id: newLineId(),
      custom_id: line.customId,
      response,
      error: { code: err?.code ?? 'request_failed', message: err?.message ?? `HTTP ${res.status}` },
    },
  };
}

/** A line whose batch's key was revoked (or expired) before it ran: refused, nothing sent upstream. */
export function revokedLine(line: ClaimedLine): LineResult {
  const error = {
    message: 'The API key this batch runs as was revoked or has expired.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  };
  return {
    batchId: line.batchId,
    line: line.line,
    state: 'failed',
    usage: null,
    result: {
      id: newLineId(),
      custom_id: line.customId,
      response: { status_code: 401, request_id: newId('req'), body: { error } },
      error: { code: error.code, message: error.message },
    },
  };
}
