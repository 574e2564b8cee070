import type { ServerResponse } from 'node:http';
import { completionLength, echoTokens, lastUserText, promptTokensOfMessages } from './content.ts';
import type { RouteContext } from './openai-routes.ts';
import { sendJson } from './openai-routes.ts';
import { eventFrame, writeStream } from './sse.ts';

export function anthropicError(res: ServerResponse, status: number, message: string, headers = {}): void {
  const type =
    status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status >= 500
          ? 'api_error'
          : 'invalid_request_error';
  sendJson(res, status, { type: 'error', error: { type, message } }, headers);
}

/** Anthropic-style POST /v1/messages, non-stream and streaming */
export async function messages({ res, body, behavior, seq }: RouteContext): Promise<void> {
  if (!Array.isArray(body.messages)) return anthropicError(res, 400, 'messages: Field required');
  const id = `msg_fake_${seq}`;
  const model = String(body.model ?? 'fake-claude');
  const tokens = echoTokens(lastUserText(body.messages), completionLength(body, behavior.chunks));
  const inputTokens = promptTokensOfMessages(body.messages, body.system);
  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model,
    stop_reason: 'end_turn',
    stop_sequence: null,
  };
  if (!body.stream) {
    return sendJson(res, 200, {
      ...message,
      content: [{ type: 'text', text: tokens.join('') }],
      ...(behavior.usage ? { usage: { input_tokens: inputTokens, output_tokens: tokens.length } } : {}),
    });
  }
  const head = [
    eventFrame('message_start', {
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        ...(behavior.usage ? { usage: { input_tokens: inputTokens, output_tokens: 1 } } : {}),
      },
    }),
    eventFrame('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    }),
  ];
  const deltas = tokens.map((text) =>
    eventFrame('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text },
    }),
  );
  const tail = [
    eventFrame('content_block_stop', { type: 'content_block_stop', index: 0 }),
    eventFrame('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      ...(behavior.usage ? { usage: { output_tokens: tokens.length } } : {}),
    }),
    eventFrame('message_stop', { type: 'message_stop' }),
  ];
  await writeStream(res, behavior, [...head, ...deltas], tail);
}
