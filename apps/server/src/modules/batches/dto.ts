import type { batches } from './schema.ts';

export type BatchRow = typeof batches.$inferSelect;

const unix = (d: Date | null | undefined) => (d ? Math.floor(d.getTime() / 1000) : null);

/** OpenAI's Batch object, field for field. */
export function toBatchDto(r: BatchRow) {
  const errors = r.errors as
    | { code: string; message: string; param: string | null; line: number | null }[]
    | null;
  return {
    id: r.id,
    object: 'batch' as const,
    endpoint: r.endpoint,
    model: r.model,
    errors: errors && errors.length > 0 ? { object: 'list' as const, data: errors } : null,
    input_file_id: r.inputFileId,
    completion_window: r.completionWindow,
    status: r.status,
    output_file_id: r.outputFileId,
    error_file_id: r.errorFileId,
    created_at: unix(r.createdAt)!,
    in_progress_at: unix(r.inProgressAt),
    expires_at: unix(r.expiresAt),
    finalizing_at: unix(r.finalizingAt),
    completed_at: unix(r.completedAt),
    failed_at: unix(r.failedAt),
    expired_at: unix(r.expiredAt),
    cancelling_at: unix(r.cancellingAt),
    cancelled_at: unix(r.cancelledAt),
    request_counts: { total: r.total, completed: r.completed, failed: r.failed },
    usage: {
      input_tokens: r.inputTokens,
      input_tokens_details: { cached_tokens: r.cachedTokens },
      output_tokens: r.outputTokens,
      output_tokens_details: { reasoning_tokens: r.reasoningTokens },
      total_tokens: r.inputTokens + r.outputTokens,
    },
    metadata: (r.metadata as Record<string, string> | null) ?? null,
  };
}

export type BatchDto = ReturnType<typeof toBatchDto>;
