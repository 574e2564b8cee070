import { createParser } from 'eventsource-parser';
import type { StreamOptions, StreamTranslator, Usage } from '../types.ts';
import { FINISH_REASONS, openAiUsage, usageFromAnthropic } from './from-messages.ts';

type Json = Record<string, any>;

/** Translates an Anthropic Messages stream into OpenAI chat completion chunks, as it arrives. */
export function createAnthropicStream(opts: StreamOptions): StreamTranslator {
  const decoder = new TextDecoder();
  const created = Math.floor(Date.now() / 1000);
  let id = `chatcmpl-${opts.requestId}`;
  let out = '';
  let text = '';
  let complete = false;
  let finishReason: string | null = null;
  let raw: Json = {};
  let sawUsage = false;
  /** Anthropic block index → OpenAI tool call index */
  const toolIndex = new Map<number, number>();

  const emit = (delta: Json, finish: string | null = null) => {
    const chunk = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: opts.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    out += `data: ${JSON.stringify(chunk)}\n\n`;
  };
  const usage = (): Usage | null => (sawUsage ? usageFromAnthropic(raw) : null);

  const onEvent = (data: Json) => {
    switch (data.type) {
      case 'message_start': {
        if (typeof data.message?.id === 'string') id = data.message.id;
        if (data.message?.usage) {
          raw = { ...raw, ...data.message.usage };
          sawUsage = true;
        }
        emit({ role: 'assistant', content: '' });
        break;
      }
      case 'content_block_start': {
        const block = data.content_block ?? {};
        if (block.type === 'tool_use') {
          const index = toolIndex.size;
          toolIndex.set(data.index, index);
          text += block.name ?? '';
          emit({
            tool_calls: [
              { index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
            ],
          });
        } else if (block.type === 'text' && block.text) {
          text += block.text;
          emit({ content: block.text });
        }
        break;
      }
      case 'content_block_delta': {
        const d = data.delta ?? {};
        if (d.type === 'text_delta') {
          text += d.text ?? '';
          emit({ content: d.text ?? '' });
        } else if (d.type === 'thinking_delta') {
          text += d.thinking ?? '';
          emit({ reasoning_content: d.thinking ?? '' });
        } else if (d.type === 'input_json_delta') {
          text += d.partial_json ?? '';
          emit({
            tool_calls: [
              { index: toolIndex.get(data.index) ?? 0, function: { arguments: d.partial_json ?? '' } },
            ],
          });
        }
        break;
      }
      case 'message_delta': {
        if (data.delta?.stop_reason) finishReason = FINISH_REASONS[data.delta.stop_reason] ?? 'stop';
        if (data.usage) {
          raw = { ...raw, ...data.usage };
          sawUsage = true;
        }
        break;
      }
      case 'message_stop': {
        emit({}, finishReason ?? 'stop');
        const u = usage();
        if (opts.clientWantsUsage && u) {
          out += `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: opts.model, choices: [], usage: openAiUsage(u) })}\n\n`;
        }
        out += 'data: [DONE]\n\n';
        complete = true;
        break;
      }
      case 'error': {
        const err = data.error ?? {};
        out += `data: ${JSON.stringify({ error: { message: err.message ?? 'upstream error', type: err.type ?? 'api_error', param: null, code: 'upstream_error' } })}\n\n`;
        break;
      }
    }
  };

  const parser = createParser({
    maxBufferSize: 4 * 1024 * 1024,
    onEvent(event) {
      try {
        const data = JSON.parse(event.data) as Json;
        onEvent(data);
        if (opts.native) {
          // Anthropic's own event, re-sent whole; only the upstream's model name is replaced by the client's
          if (data.type === 'message_start' && data.message) data.message.model = opts.model;
          nativeOut += `event: ${event.event ?? data.type}\ndata: ${JSON.stringify(data)}\n\n`;
        }
      } catch {
        // an unparsable event cannot be translated; skip it
      }
    },
  });

  let nativeOut = '';
  const takeNative = () => {
    const result = nativeOut;
    nativeOut = '';
    return result || null;
  };

  const take = () => {
    const result = out;
    out = '';
    return result || null;
  };

  return {
    push(chunk) {
      try {
        parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {}
      const translated = take();
      // a native client gets Anthropic's own events; the translation above only watched for usage
      return opts.native ? takeNative() : translated;
    },
    end: () => {
      const translated = take();
      return opts.native ? takeNative() : translated;
    },
    get usage() {
      return usage();
    },
    get complete() {
      return complete;
    },
    completionText: () => text,
  };
}
