import { describe, expect, it } from 'vitest';
import { ChatStreamToResponseEvents } from './chat-stream-to-events.ts';

const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  sse({ choices: [{ index: 0, delta, finish_reason: finish }] });

function parse(out: string) {
  return out
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [event, data] = frame.split('\n');
      const parsed = JSON.parse(data!.slice('data: '.length));
      expect(event).toBe(`event: ${parsed.type}`);
      return parsed;
    });
}

describe('ChatStreamToResponseEvents', () => {
  it('turns reasoning, text and two tool calls into items with their events, in sequence', () => {
    const t = new ChatStreamToResponseEvents(() => ({ id: 'resp_1', status: 'in_progress', output: [] }));
    let out = '';
    out += t.push(chunk({ role: 'assistant', reasoning_content: 'think' }));
    out += t.push(chunk({ content: 'Hel' }));
    // an event split across two pushes
    const split = chunk({ content: 'lo' });
    out += t.push(split.slice(0, 10));
    out += t.push(split.slice(10));
    out += t.push(
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"x"' } }] }),
    );
    out += t.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }));
    out += t.push(
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }),
    );
    out += t.push(chunk({}, 'tool_calls'));
    out += t.push(sse({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 } }));
    out += t.push(sse('[DONE]'));
    const { events, outcome } = t.end();
    const all = parse(
      out + events + t.terminal({ id: 'resp_1', status: outcome.status, output: outcome.output }),
    );
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i));
    expect(all.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(outcome.status).toBe('completed');
    expect(outcome.usage).toMatchObject({ input_tokens: 7, output_tokens: 9, total_tokens: 16 });
    expect(outcome.output).toMatchObject([
      { type: 'reasoning', content: [{ type: 'reasoning_text', text: 'think' }] },
      { type: 'message', status: 'completed', content: [{ type: 'output_text', text: 'Hello' }] },
      { type: 'function_call', call_id: 'call_a', name: 'f', arguments: '{"x":1}', status: 'completed' },
      { type: 'function_call', call_id: 'call_b', name: 'g', arguments: '{}' },
    ]);
    expect(all[12]).toMatchObject({ type: 'response.output_text.done', text: 'Hello', output_index: 1 });
  });

  it('ends as incomplete on finish_reason length and as failed on an error event or a cut', () => {
    const cut = new ChatStreamToResponseEvents(() => ({}));
    cut.push(chunk({ content: 'a' }, 'length'));
    cut.push(sse('[DONE]'));
    expect(cut.end().outcome).toMatchObject({
      status: 'incomplete',
      incompleteDetails: { reason: 'max_output_tokens' },
    });

    const failed = new ChatStreamToResponseEvents(() => ({}));
    failed.push(chunk({ content: 'a' }));
    failed.push(sse({ error: { message: 'The upstream stream ended unexpectedly.' } }));
    const f = failed.end();
    expect(f.outcome).toMatchObject({
      status: 'failed',
      error: { message: 'The upstream stream ended unexpectedly.' },
    });
    // the open item is still closed, so the SDK's snapshot stays whole
    expect(parse(f.events).map((e) => e.type)).toContain('response.output_item.done');
    expect(failed.terminal({ status: 'failed' })).toContain('event: response.failed');

    const interrupted = new ChatStreamToResponseEvents(() => ({}));
    interrupted.push(chunk({ content: 'a' }));
    expect(interrupted.end().outcome.status).toBe('failed');
  });
});
