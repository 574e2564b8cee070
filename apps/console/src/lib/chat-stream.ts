import { errorFromResponse } from '../api/client.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatParams {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stream: boolean;
}

export interface ChatResult {
  content: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  ttftMs: number | null;
  latencyMs: number;
  target: string | null;
  requestId: string | null;
  finishReason: string | null;
}

/** Calls the gateway's /v1/chat/completions with an API key; streams deltas to onDelta when stream is on. */
export async function chatCompletion(
  apiKey: string,
  params: ChatParams,
  onDelta: (text: string) => void,
  signal: AbortSignal,
): Promise<ChatResult> {
  const started = performance.now();
  const res = await fetch('/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(params.stream ? { ...params, stream_options: { include_usage: true } } : params),
    signal,
  });
  if (!res.ok) throw await errorFromResponse(res);
  const meta = { target: res.headers.get('x-maas-target'), requestId: res.headers.get('x-request-id') };
  if (!params.stream) {
    const body = (await res.json()) as {
      choices: { message: { content: string }; finish_reason: string }[];
      usage?: ChatResult['usage'];
    };
    const content = body.choices[0]?.message.content ?? '';
    onDelta(content);
    const latencyMs = performance.now() - started;
    return {
      content,
      usage: body.usage ?? null,
      ttftMs: latencyMs,
      latencyMs,
      finishReason: body.choices[0]?.finish_reason ?? null,
      ...meta,
    };
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let content = '';
  let usage: ChatResult['usage'] = null;
  let ttftMs: number | null = null;
  let finishReason: string | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = events.pop() ?? '';
    for (const event of events) {
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (!data || data === '[DONE]') continue;
      let chunk: {
        choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
        usage?: ChatResult['usage'];
        error?: { message: string };
      };
      try {
        chunk = JSON.parse(data);
      } catch {
        continue;
      }
      if (chunk.error) throw new Error(chunk.error.message);
      const delta = chunk.choices?.[0]?.delta?.content;
      if (delta) {
        ttftMs ??= performance.now() - started;
        content += delta;
        onDelta(delta);
      }
      finishReason = chunk.choices?.[0]?.finish_reason ?? finishReason;
      if (chunk.usage) usage = chunk.usage;
    }
  }
  return { content, usage, ttftMs, latencyMs: performance.now() - started, finishReason, ...meta };
}

export async function listGatewayModels(apiKey: string): Promise<string[]> {
  const res = await fetch('/v1/models', { headers: { authorization: `Bearer ${apiKey}` } });
  if (!res.ok) throw await errorFromResponse(res);
  const body = (await res.json()) as { data: { id: string }[] };
  return body.data.map((m) => m.id);
}
