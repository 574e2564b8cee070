import { describe, expect, it } from 'vitest';
import { ChatStreamToEvents } from './chat-stream-to-events.ts';
import { toAnthropicMessage } from './from-chat.ts';

const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  data({ choices: [{ index: 0, delta, finish_reason: finish, ...extra }] });

function events(text: string) {
  return [...text.matchAll(/^event: (\S+)\ndata: (.*)$/gm)].map((m) => JSON.parse(m[2]!));
}

describe('ChatStreamToEvents', () => {
  it('turns reasoning_content into a thinking block before the text, with an empty signature', () => {
    const t = new ChatStreamToEvents('m', undefined);
    const out =
      t.push(chunk({ role: 'assistant', reasoning_content: 'let me ' })) +
      t.push(chunk({ reasoning_content: 'think' })) +
      t.push(chunk({ content: 'answer' }, 'stop')) +
      t.push(data({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3 } })) +
      t.push('data: [DONE]\n\n');
    const e = events(out);
    expect(e.map((x) => x.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(e[2].content_block).toEqual({ type: 'thinking', thinking: '', signature: '' });
    expect(e[3].delta).toEqual({ type: 'thinking_delta', thinking: 'let me ' });
    expect(e[6]).toMatchObject({ index: 1, content_block: { type: 'text', text: '' } });
    expect(e[9]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 9, output_tokens: 3 },
    });
  });

  it('opens one tool_use block per call, even with two calls in parallel', () => {
    const t = new ChatStreamToEvents('m', undefined);
    const out =
      t.push(chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'a', arguments: '{"x"' } }] })) +
      t.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] })) +
      t.push(
        chunk(
          { tool_calls: [{ index: 1, id: 'c2', function: { name: 'b', arguments: '{}' } }] },
          'tool_calls',
        ),
      ) +
      t.push('data: [DONE]\n\n');
    const e = events(out);
    const starts = e.filter((x) => x.type === 'content_block_start').map((x) => x.content_block);
    expect(starts).toEqual([
      { type: 'tool_use', id: 'c1', name: 'a', input: {} },
      { type: 'tool_use', id: 'c2', name: 'b', input: {} },
    ]);
    const json = e
      .filter((x) => x.type === 'content_block_delta')
      .map((x) => [x.index, x.delta.partial_json]);
    expect(json).toEqual([
      [0, '{"x"'],
      [0, ':1}'],
      [1, '{}'],
    ]);
    expect(e.at(-2).delta.stop_reason).toBe('tool_use');
  });

  it('reports the stop sequence vLLM names, and the gateway’s stream error as an error event', () => {
    const t = new ChatStreamToEvents('m', ['END']);
    const ok = events(t.push(chunk({ content: 'x' }, 'stop', { stop_reason: 'END' }) + 'data: [DONE]\n\n'));
    expect(ok.at(-2).delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' });

    const broken = new ChatStreamToEvents('m', undefined);
    const e = events(
      broken.push(chunk({ content: 'x' })) +
        broken.push(
          data({ error: { message: 'The upstream stream ended unexpectedly.', type: 'api_error' } }),
        ),
    );
    expect(e.at(-1)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'The upstream stream ended unexpectedly.' },
    });
    expect(e.some((x) => x.type === 'message_stop')).toBe(false);
  });
});

describe('toAnthropicMessage', () => {
  it('maps content, reasoning, tool calls, finish reasons and cached tokens', () => {
    const msg = toAnthropicMessage(
      {
        choices: [
          {
            message: {
              content: 'hi',
              reasoning_content: 'hmm',
              tool_calls: [{ id: 'c1', function: { name: 'f', arguments: '{"a":1}' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 6 } },
      },
      'alias',
      undefined,
    );
    expect(msg).toMatchObject({
      type: 'message',
      model: 'alias',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: '' },
        { type: 'text', text: 'hi' },
        { type: 'tool_use', id: 'c1', name: 'f', input: { a: 1 } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 4, output_tokens: 4, cache_read_input_tokens: 6 },
    });
  });
});
