import type { CreateResponseBody } from './responses-body.ts';
import type { StoredResponseRow } from './schema.ts';

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'incomplete' | 'cancelled';

/** A response as maas keeps it: the table's row (a `store: false` one lives only in memory). */
export type ResponseRecord = StoredResponseRow & { store: boolean };

/** The request fields a response echoes back, as OpenAI's response object carries them. */
export function echoedRequest(body: CreateResponseBody): Record<string, unknown> {
  return {
    instructions: body.instructions ?? null,
    tools: body.tools ?? [],
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    max_output_tokens: body.max_output_tokens ?? null,
    temperature: body.temperature ?? 1,
    top_p: body.top_p ?? 1,
    metadata: body.metadata ?? {},
    text: { format: body.text?.format ?? { type: 'text' } },
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    user: body.user ?? null,
    truncation: body.truncation ?? 'disabled',
  };
}

const seconds = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null);

/** OpenAI's `response` object. */
export function toResponseObject(r: ResponseRecord) {
  return {
    id: r.id,
    object: 'response' as const,
    created_at: seconds(r.createdAt),
    completed_at: seconds(r.completedAt),
    status: r.status,
    background: r.background,
    error: r.error ?? null,
    incomplete_details: r.incompleteDetails ?? null,
    model: r.model,
    output: r.output,
    previous_response_id: r.previousResponseId,
    store: r.store,
    ...r.request,
    usage: r.usage ?? null,
  };
}

export interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** The Responses API's usage for a chat completion's. */
export function usageOf(u: ChatUsage | null | undefined): Record<string, unknown> {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u?.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u?.total_tokens ?? input + output,
  };
}

/** How a chat completion's finish reason ends a response. */
export function endOf(finish: string | null | undefined): {
  status: 'completed' | 'incomplete';
  incompleteDetails: Record<string, unknown> | null;
} {
  if (finish === 'length')
    return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter')
    return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
  return { status: 'completed', incompleteDetails: null };
}
