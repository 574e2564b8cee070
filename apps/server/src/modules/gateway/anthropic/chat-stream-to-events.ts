import { createParser, type EventSourceParser } from 'eventsource-parser';
import { type ChatUsage, messageId, stopReasonOf, usageOf } from './from-chat.ts';

const MAX_EVENT_CHARS = 4 * 1024 * 1024;

type BlockKind = 'text' | 'thinking' | 'tool_use';

interface ChatDelta {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[] | null;
}

interface ChatChunk {
  choices?: { delta?: ChatDelta; finish_reason?: string | null; stop_reason?: unknown }[];
  usage?: ChatUsage | null;
  error?: { message?: string };
}

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * Turns an OpenAI chat completion stream into Anthropic's event stream: `message_start`, `ping`,
 * then per block `content_block_start` / `content_block_delta` (`text_delta`, `thinking_delta`,
 * `input_json_delta`) / `content_block_stop`, and `message_delta` (stop reason, usage) and
 * `message_stop` at `[DONE]`. An error event from the gateway becomes Anthropic's `error` event.
 */
export class ChatStreamToEvents {
  private readonly parser: EventSourceParser;
  private out = '';
  private started = false;
  private finished = false;
  private block: { kind: BlockKind; index: number; toolIndex?: number } | null = null;
  private nextIndex = 0;
  private finish: string | null = null;
  private matched: unknown = null;
  private usage: ChatUsage | null = null;
  private deltas = 0;

  constructor(
    private readonly model: string,
    private readonly stopSequences: string[] | undefined,
  ) {
    this.parser = createParser({ maxBufferSize: MAX_EVENT_CHARS, onEvent: (e) => this.onData(e.data) });
  }

  /** Anthropic events for these upstream bytes ('' when none yet). */
  push(chunk: Buffer | string): string {
    this.parser.feed(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const out = this.out;
    this.out = '';
    return out;
  }

  private onData(data: string): void {
    if (this.finished) return;
    if (data === '[DONE]') {
      this.stop();
      return;
    }
    let chunk: ChatChunk;
    try {
      chunk = JSON.parse(data) as ChatChunk;
    } catch {
      return;
    }
    if (chunk.error) {
      this.fail(chunk.error.message ?? 'The upstream stream failed.');
      return;
    }
    this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const d = choice.delta ?? {};
    const reasoning = d.reasoning_content ?? d.reasoning;
    if (reasoning) this.delta('thinking', { type: 'thinking_delta', thinking: reasoning });
    if (d.content) this.delta('text', { type: 'text_delta', text: d.content });
    for (const call of d.tool_calls ?? []) this.toolDelta(call);
    if (choice.finish_reason) {
      this.finish = choice.finish_reason;
      this.matched = choice.stop_reason;
    }
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.out += frame('message_start', {
      type: 'message_start',
      message: {
        id: messageId(),
        type: 'message',
        role: 'assistant',
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // the upstream reports usage at the end; message_delta carries the counts
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
    this.out += frame('ping', { type: 'ping' });
  }

  private open(kind: BlockKind, contentBlock: Record<string, unknown>, toolIndex?: number): void {
    this.close();
    this.block = { kind, index: this.nextIndex++, ...(toolIndex === undefined ? {} : { toolIndex }) };
    this.out += frame('content_block_start', {
      type: 'content_block_start',
      index: this.block.index,
      content_block: contentBlock,
    });
  }

  private close(): void {
    if (!this.block) return;
    this.out += frame('content_block_stop', { type: 'content_block_stop', index: this.block.index });
    this.block = null;
  }

  private delta(kind: 'text' | 'thinking', delta: Record<string, string>): void {
    if (this.block?.kind !== kind)
      // no signature: OpenAI-compatible servers do not sign their reasoning
      this.open(
        kind,
        kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
      );
    this.deltas++;
    this.out += frame('content_block_delta', {
      type: 'content_block_delta',
      index: this.block!.index,
      delta,
    });
  }

  private toolDelta(call: NonNullable<ChatDelta['tool_calls']>[number]): void {
    const toolIndex = call.index ?? 0;
    if (call.id || this.block?.kind !== 'tool_use' || this.block.toolIndex !== toolIndex) {
      this.open(
        'tool_use',
        {
          type: 'tool_use',
          id: call.id ?? messageId().replace('msg_', 'toolu_'),
          name: call.function?.name ?? '',
          input: {},
        },
        toolIndex,
      );
    }
    const partial = call.function?.arguments;
    if (!partial) return;
    this.deltas++;
    this.out += frame('content_block_delta', {
      type: 'content_block_delta',
      index: this.block!.index,
      delta: { type: 'input_json_delta', partial_json: partial },
    });
  }

  private stop(): void {
    this.start();
    this.close();
    this.finished = true;
    const usage = usageOf(this.usage);
    // without reported usage, a rough count: one token per streamed delta
    if (!this.usage) usage.output_tokens = this.deltas;
    this.out += frame('message_delta', {
      type: 'message_delta',
      delta: stopReasonOf(this.finish, this.matched, this.stopSequences),
      usage,
    });
    this.out += frame('message_stop', { type: 'message_stop' });
  }

  private fail(message: string): void {
    this.finished = true;
    this.out += frame('error', { type: 'error', error: { type: 'api_error', message } });
  }
}
