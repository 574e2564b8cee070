import type OpenAI from 'openai';
import { CliError, EXIT, exitCodeForStatus } from './errors.ts';

export type Message = OpenAI.ChatCompletionMessageParam;

export interface TurnOptions {
  model: string;
  messages: Message[];
  stream: boolean;
  temperature?: number;
  maxTokens?: number;
  /** each piece of text as it arrives */
  onText?: (text: string) => void;
  signal?: AbortSignal;
}

export interface TurnResult {
  model: string;
  content: string;
  finish_reason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  /** time to the first token (streaming) or to the whole answer */
  ttft_ms: number;
  latency_ms: number;
  request_id: string | null;
  aborted: boolean;
}

/** The openai SDK against `<server>/v1`, loaded only when a command chats. */
export async function createGatewayClient(server: string, apiKey: string): Promise<OpenAI> {
  const { default: OpenAI } = await import('openai');
  return new OpenAI({ baseURL: `${server}/v1`, apiKey, maxRetries: 0, timeout: 300_000 });
}

/** An SDK error as a CliError: the server's own message, and the exit code of its status. */
export function chatError(err: unknown, server: string): CliError {
  const e = err as { status?: number; error?: { message?: string }; message?: string; name?: string };
  if (
    e?.name === 'APIConnectionError' ||
    e?.name === 'APIConnectionTimeoutError' ||
    (e && e.status === undefined && /connect|fetch|ECONN/i.test(e.message ?? ''))
  )
    return new CliError(
      `cannot reach the gateway at ${server}/v1 (${e.message})`,
      EXIT.server,
      'unreachable',
    );
  if (typeof e?.status === 'number') {
    const message = e.error?.message ?? e.message ?? `the gateway answered ${e.status}`;
    return new CliError(message, exitCodeForStatus(e.status), 'gateway_error');
  }
  return new CliError((err as Error)?.message ?? String(err), EXIT.general);
}

/** Sends one turn; streams text to `onText`; measures first-token and total latency. */
export async function sendTurn(client: OpenAI, opts: TurnOptions): Promise<TurnResult> {
  const started = performance.now();
  let first: number | null = null;
  const params = {
    model: opts.model,
    messages: opts.messages,
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
  };
  const result: TurnResult = {
    model: opts.model,
    content: '',
    finish_reason: null,
    usage: null,
    ttft_ms: 0,
    latency_ms: 0,
    request_id: null,
    aborted: false,
  };
  if (!opts.stream) {
    const { data, request_id } = await client.chat.completions
      .create({ ...params, stream: false }, { signal: opts.signal })
      .withResponse();
    const choice = data.choices[0];
    result.content = choice?.message.content ?? '';
    result.finish_reason = choice?.finish_reason ?? null;
    result.usage = data.usage ?? null;
    result.request_id = request_id;
    opts.onText?.(result.content);
  } else {
    const { data: stream, request_id } = await client.chat.completions
      .create({ ...params, stream: true, stream_options: { include_usage: true } }, { signal: opts.signal })
      .withResponse();
    result.request_id = request_id;
    try {
      for await (const chunk of stream) {
        if (chunk.usage) result.usage = chunk.usage;
        const choice = chunk.choices[0];
        if (choice?.finish_reason) result.finish_reason = choice.finish_reason;
        const text = choice?.delta?.content;
        if (text) {
          first ??= performance.now();
          result.content += text;
          opts.onText?.(text);
        }
      }
    } catch (err) {
      if (!opts.signal?.aborted) throw err;
      result.aborted = true;
    }
  }
  const done = performance.now();
  result.latency_ms = Math.round(done - started);
  result.ttft_ms = Math.round((first ?? done) - started);
  return result;
}

/** `chat-small · 12 prompt + 40 completion = 52 tokens · first token 80 ms · 640 ms` */
export function statsLine(r: TurnResult): string {
  const tokens = r.usage
    ? `${r.usage.prompt_tokens} prompt + ${r.usage.completion_tokens} completion = ${r.usage.total_tokens} tokens`
    : 'tokens not reported';
  return `${r.model} · ${tokens} · first token ${r.ttft_ms} ms · ${r.latency_ms} ms`;
}
