import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { ChatStreamToResponseEvents, type StreamOutcome } from './chat-stream-to-events.ts';
import { type ChatCompletion, fromChatCompletion, type ResponseOutcome } from './from-chat.ts';
import type { Item } from './input-items.ts';

export interface ResponsesReplyOptions {
  /** the response object as it starts (status in_progress, no output) */
  initial: () => Record<string, unknown>;
  /** stores the response as it ended (when it is stored) and gives its object back */
  complete: (outcome: ResponseOutcome | StreamOutcome) => Promise<Record<string, unknown>>;
  onError: (err: unknown) => void;
  /** output items done before the model ran (file searches), sent first */
  leading?: Item[] | undefined;
}

const serverError = (message: string) => ({
  error: { message, type: 'server_error', param: null, code: 'server_error' },
});

/**
 * The reply proxyRequest writes an OpenAI chat answer to, standing in for the client's own: a JSON
 * answer becomes a response object, stream bytes become Responses API events. The response is
 * stored before its last event (or its JSON) goes out, so a client that chains at once finds it.
 * Status, headers, hijack and the socket's events are the real reply's.
 */
export function responsesReply(real: FastifyReply, opts: ResponsesReplyOptions): FastifyReply {
  const events = new ChatStreamToResponseEvents(opts.initial, opts.leading);
  const socket: ServerResponse = real.raw;
  let ending = false;
  const finishStream = (last?: Buffer | string) => {
    if (ending) return;
    ending = true;
    const head = last ? events.push(last) : '';
    const { events: tail, outcome } = events.end();
    if (head || tail) socket.write(head + tail);
    opts
      .complete(outcome)
      .then((response) => socket.end(events.terminal(response)))
      .catch((err: unknown) => {
        opts.onError(err);
        const { message, code } = serverError('The response could not be stored.').error;
        const data = { type: 'error', code, message, param: null, sequence_number: 0 };
        socket.end(`event: error\ndata: ${JSON.stringify(data)}\n\n`);
      });
  };
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
      const out = events.push(chunk);
      return out ? socket.write(out) : true;
    },
    end(chunk?: Buffer | string) {
      finishStream(chunk);
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
      let completion: ChatCompletion;
      try {
        completion = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        real.code(502).send({
          error: {
            message: 'The upstream answered with a body that is not JSON.',
            type: 'api_error',
            param: null,
            code: 'upstream_error',
          },
        });
        return reply;
      }
      opts
        .complete(fromChatCompletion(completion ?? {}))
        .then((response) => real.send(response))
        .catch((err: unknown) => {
          opts.onError(err);
          real.code(500).send(serverError('The response could not be stored.'));
        });
      return reply;
    },
  };
  return reply as unknown as FastifyReply;
}
