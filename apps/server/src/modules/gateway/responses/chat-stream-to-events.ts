import { createParser, type EventSourceParser } from 'eventsource-parser';
import { functionCallItem, messageItem, reasoningItem } from './from-chat.ts';
import type { Item } from './input-items.ts';
import { itemId } from './item-ids.ts';
import { type ChatUsage, endOf, usageOf } from './response-object.ts';

const MAX_EVENT_CHARS = 4 * 1024 * 1024;

interface ChatDelta {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[] | null;
}

interface ChatChunk {
  choices?: { delta?: ChatDelta; finish_reason?: string | null }[];
  usage?: ChatUsage | null;
  error?: { message?: string; code?: string };
}

type Open =
  | { kind: 'text' | 'reasoning'; index: number; id: string; text: string }
  | {
      kind: 'call';
      index: number;
      id: string;
      toolIndex: number;
      callId: string;
      name: string;
      args: string;
    };

/** How the stream ended, for the response's last event and its stored row. */
export interface StreamOutcome {
  status: 'completed' | 'incomplete' | 'failed';
  output: Item[];
  usage: Record<string, unknown>;
  incompleteDetails: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

/**
 * Turns an OpenAI chat completion stream into the Responses API's events, in the order the `openai`
 * SDK accumulates them: `response.created`, `response.in_progress`, then per output item
 * `output_item.added`, (`content_part.added`, `output_text.delta`… / `reasoning_text.delta`…,
 * `output_text.done`, `content_part.done`) or (`function_call_arguments.delta`…, `.done`),
 * `output_item.done`. The last event (`response.completed`, `.incomplete` or `.failed`, carrying
 * the whole response) is left to the caller, who stores the response first.
 */
export class ChatStreamToResponseEvents {
  private readonly parser: EventSourceParser;
  private out = '';
  private seq = 0;
  private started = false;
  private ended = false;
  private open: Open | null = null;
  private readonly output: Item[] = [];
  private finish: string | null = null;
  private usage: ChatUsage | null = null;
  private deltas = 0;
  private error: StreamOutcome['error'] = null;

  /**
   * `initial`: the response object as it starts (status in_progress, no output); `leading`: items
   * done before the model runs (file searches), sent first
   */
  constructor(
    private readonly initial: () => Record<string, unknown>,
    private readonly leading: Item[] = [],
  ) {
    this.parser = createParser({ maxBufferSize: MAX_EVENT_CHARS, onEvent: (e) => this.onData(e.data) });
  }

  /** events for these upstream bytes ('' when none yet) */
  push(chunk: Buffer | string): string {
    this.parser.feed(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const out = this.out;
    this.out = '';
    return out;
  }

  /** the stream is over: events still owed (open items closed) and how it ended */
  end(): { events: string; outcome: StreamOutcome } {
    this.start();
    if (!this.ended && !this.error)
      this.error = { code: 'server_error', message: 'The response stream was interrupted.' };
    this.close();
    const events = this.out;
    this.out = '';
    const ending = endOf(this.finish);
    const usage = usageOf(this.usage);
    // without reported usage, a rough count: one token per streamed delta
    if (!this.usage) usage.output_tokens = this.deltas;
    if (!this.usage) usage.total_tokens = this.deltas;
    return {
      events,
      outcome: {
        status: this.error ? 'failed' : ending.status,
        output: this.output,
        usage,
        incompleteDetails: this.error ? null : ending.incompleteDetails,
        error: this.error,
      },
    };
  }

  /** the response's last event, carrying the whole response as stored */
  terminal(response: Record<string, unknown>): string {
    const type =
      response.status === 'failed'
        ? 'response.failed'
        : response.status === 'incomplete'
          ? 'response.incomplete'
          : 'response.completed';
    return this.frame(type, { response });
  }

  private frame(type: string, data: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...data })}\n\n`;
  }

  private onData(data: string): void {
    if (this.ended || this.error) return;
    if (data === '[DONE]') {
      this.ended = true;
      return;
    }
    let chunk: ChatChunk;
    try {
      chunk = JSON.parse(data) as ChatChunk;
    } catch {
      return;
    }
    this.start();
    if (chunk.error) {
      this.error = { code: 'server_error', message: chunk.error.message ?? 'The upstream stream failed.' };
      return;
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const d = choice.delta ?? {};
    const reasoning = d.reasoning_content ?? d.reasoning;
    if (reasoning) this.textDelta('reasoning', reasoning);
    if (d.content) this.textDelta('text', d.content);
    for (const call of d.tool_calls ?? []) this.toolDelta(call);
    if (choice.finish_reason) this.finish = choice.finish_reason;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const response = this.initial();
    this.out += this.frame('response.created', { response });
    this.out += this.frame('response.in_progress', { response });
    for (const item of this.leading) {
      const where = { output_index: this.output.length, item_id: item.id };
      this.output.push(item);
      this.out += this.frame('response.output_item.added', { output_index: where.output_index, item });
      for (const stage of ['in_progress', 'searching', 'completed'])
        this.out += this.frame(`response.${String(item.type)}.${stage}`, where);
      this.out += this.frame('response.output_item.done', { output_index: where.output_index, item });
    }
  }

  private textDelta(kind: 'text' | 'reasoning', delta: string): void {
    if (this.open?.kind !== kind) {
      this.close();
      const id = itemId(kind === 'text' ? 'msg' : 'rs');
      const index = this.output.length;
      this.open = { kind, index, id, text: '' };
      this.output.push({});
      const item =
        kind === 'text'
          ? { ...messageItem('', id, 'in_progress'), content: [] }
          : { ...reasoningItem('', id), content: [] };
      this.out += this.frame('response.output_item.added', { output_index: index, item });
      this.out += this.frame('response.content_part.added', {
        item_id: id,
        output_index: index,
        content_index: 0,
        part: this.part(kind, ''),
      });
    }
    const open = this.open as Extract<Open, { kind: 'text' | 'reasoning' }>;
    open.text += delta;
    this.deltas++;
    this.out += this.frame(kind === 'text' ? 'response.output_text.delta' : 'response.reasoning_text.delta', {
      item_id: open.id,
      output_index: open.index,
      content_index: 0,
      delta,
      ...(kind === 'text' ? { logprobs: [] } : {}),
    });
  }

  private part(kind: 'text' | 'reasoning', text: string) {
    return kind === 'text'
      ? { type: 'output_text', text, annotations: [], logprobs: [] }
      : { type: 'reasoning_text', text };
  }

  private toolDelta(call: NonNullable<ChatDelta['tool_calls']>[number]): void {
    const toolIndex = call.index ?? 0;
    if (call.id || this.open?.kind !== 'call' || this.open.toolIndex !== toolIndex) {
      this.close();
      const id = itemId('fc');
      const index = this.output.length;
      const callId = call.id ?? id.replace('fc_', 'call_');
      const name = call.function?.name ?? '';
      this.open = { kind: 'call', index, id, toolIndex, callId, name, args: '' };
      this.output.push({});
      this.out += this.frame('response.output_item.added', {
        output_index: index,
        item: functionCallItem(callId, name, '', id, 'in_progress'),
      });
    }
    const open = this.open as Extract<Open, { kind: 'call' }>;
    const delta = call.function?.arguments;
    if (!delta) return;
    open.args += delta;
    this.deltas++;
    this.out += this.frame('response.function_call_arguments.delta', {
      item_id: open.id,
      output_index: open.index,
      delta,
    });
  }

  private close(): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    let item: Item;
    if (open.kind === 'call') {
      item = functionCallItem(open.callId, open.name, open.args, open.id);
      this.out += this.frame('response.function_call_arguments.done', {
        item_id: open.id,
        output_index: open.index,
        name: open.name,
        arguments: open.args,
      });
    } else {
      const where = { item_id: open.id, output_index: open.index, content_index: 0 };
      this.out += this.frame(
        open.kind === 'text' ? 'response.output_text.done' : 'response.reasoning_text.done',
        { ...where, text: open.text, ...(open.kind === 'text' ? { logprobs: [] } : {}) },
      );
      this.out += this.frame('response.content_part.done', {
        ...where,
        part: this.part(open.kind, open.text),
      });
      item = open.kind === 'text' ? messageItem(open.text, open.id) : reasoningItem(open.text, open.id);
    }
    this.output[open.index] = item;
    this.out += this.frame('response.output_item.done', { output_index: open.index, item });
  }
}
