import type { CompiledModel } from '../registry/index.ts';
import type { Endpoint } from './adapters/types.ts';
import { type Failure, failure } from './failures.ts';
import type { TokenEstimator } from './token-estimate.ts';

const positive = (v: unknown): number => (typeof v === 'number' && v > 0 ? v : 0);

/**
 * A chat or completion whose prompt plus `max_tokens` is over the model's context length never
 * reaches the upstream: it fails as `context_length`, so a fallback configured for that class takes
 * it, or the client gets OpenAI's 400 `context_length_exceeded`. Counted with the gateway's
 * tokenizer only when the prompt's bytes alone could overflow (a token is at least one byte).
 */
export async function contextOverflow(
  tokens: TokenEstimator,
  endpoint: Endpoint,
  body: Record<string, unknown>,
  model: CompiledModel,
): Promise<Failure | null> {
  const limit = model.contextLength;
  if (!limit || (endpoint !== 'chat.completions' && endpoint !== 'completions')) return null;
  const completion = positive(body.max_completion_tokens) || positive(body.max_tokens);
  const text = tokens.promptText(endpoint, body);
  if (Buffer.byteLength(text) + completion <= limit) return null;
  const prompt = await tokens.count(text);
  if (prompt + completion <= limit) return null;
  return failure(
    'context_length',
    400,
    'context_length_exceeded',
    `This model's maximum context length is ${limit} tokens. However, you requested ${prompt + completion} tokens (${prompt} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`,
  );
}
