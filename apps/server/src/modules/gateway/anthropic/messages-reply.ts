import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { anthropicErrorBody } from './anthropic-error.ts';
import { ChatStreamToEvents } from './chat-stream-to-events.ts';
import { toAnthropicMessage } from './from-chat.ts';

/**
 * The reply proxyRequest writes an OpenAI chat answer to, standing in for the client's own: a JSON
 * answer is sent as an Anthropic message, stream bytes as Anthropic events. Everything else
 * (status, headers, hijack, the socket's close and drain) is the real reply's.
 */
export function messagesReply(
  real: FastifyReply,
  model: string,
  /** the request's stop sequences, known once its body is parsed */
  stopSequences: () => string[] | undefined,
): FastifyReply {
  let events: ChatStreamToEvents | null = null;
  /** null until the first bytes: an Anthropic upstream's own events pass through unchanged */
  let native: boolean | null = null;
  const translate = (chunk: Buffer | string): Buffer | string => {
    native ??= String(chunk).startsWith('event:');
    // the gateway's own error line (OpenAI-style) still becomes Anthropic's error event
    if (native && !(typeof chunk === 'string' && chunk.startsWith('\n\ndata: {"error"'))) return chunk;
    events ??= new ChatStreamToEvents(model, stopSequences());
    return events.push(chunk);
  };
  const socket: ServerResponse = real.raw;
  const raw = {
    get writableFinished() {
      return socket.writableFinished;
    },
    get destroyed() {
      return socket.destroyed;
    },
    on(event: string, fn: (...args: unknown[]) => void) {
      socket.on(event, fn);
      return raw;
    },
    off(event: string, fn: (...args: unknown[]) => void) {
      socket.off(event, fn);
      return raw;
    },
    writeHead(status: number, headers: Record<string, string>) {
      socket.writeHead(status, headers);
      return raw;
    },
    write(chunk: Buffer | string) {
      const out = translate(chunk);
      return out ? socket.write(out) : true;
    },
    end(chunk?: Buffer | string) {
      const out = chunk ? translate(chunk) : '';
      socket.end(out || undefined);
      return raw;
    },
    destroy() {
      socket.destroy();
      return raw;
    },
  };
  const reply = {
    raw,
    code(status: number) {
      real.code(status);
      return reply;
    },
    header(name: string, value: string) {
      real.header(name, value);
      return reply;
    },
    headers(values: Record<string, string>) {
      real.headers(values);
      return reply;
    },
    getHeaders() {
      return real.getHeaders();
    },
    hijack() {
      real.hijack();
      return reply;
    },
    send(payload: Buffer | string) {
      let completion: Parameters<typeof toAnthropicMessage>[0];
      try {
        completion = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        // the response is committed by now: answer here, never leave the client hanging
        real
          .code(502)
          .send(anthropicErrorBody('api_error', 'The upstream answered with a body that is not JSON.'));
        return reply;
      }
      // an Anthropic upstream's own message (pass-through) goes back as it came
      const native = (completion as { type?: unknown } | null)?.type === 'message';
      real.send(native ? completion : toAnthropicMessage(completion ?? {}, model, stopSequences()));
      return reply;
    },
  };
  return reply as unknown as FastifyReply;
}
