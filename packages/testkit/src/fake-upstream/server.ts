import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicError, messages } from './anthropic-routes.ts';
import { type Behavior, createFaultBook, DEFAULT_BEHAVIOR, type FaultRule } from './faults.ts';
import { images, readForm, speech, transcription } from './media-routes.ts';
import {
  chatCompletions,
  completions,
  embeddings,
  listModels,
  openAiError,
  type RouteContext,
  rerank,
} from './openai-routes.ts';
import { sleep } from './sse.ts';

export interface FakeUpstreamOptions extends Partial<Behavior> {
  /** fault rules active from the start (see setFaults) */
  faults?: FaultRule | FaultRule[];
  /** ids listed by GET /v1/models */
  models?: string[];
  /** when set, requests must carry `Authorization: Bearer <apiKey>` or `x-api-key: <apiKey>` */
  apiKey?: string;
  /** keep a log of requests (default true; turn off for benchmarks) */
  record?: boolean;
  host?: string;
  port?: number;
}

export interface RecordedRequest {
  method: string;
  /** path without the query string, e.g. `/v1/chat/completions` */
  path: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** the parsed JSON body, or the raw text when it is not JSON, or undefined when empty */
  body: any;
  at: number;
  /** true once the client closed the connection before the response was complete */
  aborted: boolean;
  /** true once the response was completely written */
  finished: boolean;
}

export interface FakeUpstream {
  /** `http://127.0.0.1:PORT` — no `/v1` */
  baseUrl: string;
  /** `http://127.0.0.1:PORT/v1` — the `baseURL` for the openai SDK and a provider's base_url */
  url: string;
  /** alias of `url` */
  v1Url: string;
  requests: RecordedRequest[];
  /** replaces the fault rules; null clears them */
  setFaults(faults: FaultRule | FaultRule[] | null): void;
  addFault(fault: FaultRule): void;
  /** changes the base behavior (latency, chunks, usage …) for later requests */
  setOptions(options: Partial<Behavior>): void;
  clearRequests(): void;
  /** resolves with the first recorded request matching `predicate` (polls; rejects after timeoutMs) */
  waitForRequest(predicate?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

type Route = (ctx: RouteContext) => Promise<void>;
const POST_ROUTES: Record<string, Route> = {
  '/v1/chat/completions': chatCompletions,
  '/v1/completions': completions,
  '/v1/embeddings': embeddings,
  '/v1/rerank': rerank,
  '/v1/messages': messages,
  '/v1/images/generations': (ctx) => images(ctx, false),
  '/v1/images/edits': (ctx) => images(ctx, true),
  '/v1/images/variations': (ctx) => images(ctx, true),
  '/v1/audio/speech': speech,
  '/v1/audio/transcriptions': transcription,
  '/v1/audio/translations': transcription,
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Starts an OpenAI-style fake upstream on 127.0.0.1, port 0 unless given. */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const { faults, models, apiKey, record = true, host = '127.0.0.1', port = 0, ...behavior } = options;
  let base: Behavior = { ...DEFAULT_BEHAVIOR, ...behavior };
  const book = createFaultBook(faults);
  const modelIds = models ?? ['fake-chat', 'fake-embed', 'fake-rerank', 'fake-claude'];
  const requests: RecordedRequest[] = [];
  let seq = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = '/', query] = (req.url ?? '/').split('?', 2);
    const raw = await readBody(req);
    const text = raw.toString('utf8');
    let body: any;
    let badJson = false;
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      body = await readForm(raw, type).catch(() => text);
      badJson = typeof body === 'string';
    } else if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        badJson = true;
      }
    }
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      url: query ? `${path}?${query}` : path,
      headers: req.headers,
      body,
      at: Date.now(),
      aborted: false,
      finished: false,
    };
    if (record) {
      requests.push(entry);
      res.on('close', () => {
        entry.finished = res.writableFinished;
        entry.aborted = !res.writableFinished;
      });
    }
    const anthropic = path === '/v1/messages';
    const fail = anthropic ? anthropicError : openAiError;
    const model = typeof body?.model === 'string' ? body.model : undefined;
    const behavior = book.resolve(base, path, model);

    if (behavior.latencyMs > 0) await sleep(behavior.latencyMs);
    if (behavior.hang) return; // never answer; close() destroys the socket
    if (behavior.reset === 'before-headers') {
      req.socket.destroy();
      return;
    }
    if (apiKey !== undefined) {
      const given = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
      if (given !== apiKey) return fail(res, 401, 'Incorrect API key provided');
    }
    if (behavior.status !== undefined && behavior.status >= 400) {
      const headers = behavior.retryAfter !== undefined ? { 'retry-after': String(behavior.retryAfter) } : {};
      return fail(
        res,
        behavior.status,
        behavior.message ?? `fake upstream error ${behavior.status}`,
        headers,
      );
    }
    if (behavior.reset === 'after-headers') {
      const stream = body?.stream === true;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.flushHeaders();
      setImmediate(() => req.socket.destroy());
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') return listModels(res, modelIds);
    const route = req.method === 'POST' ? POST_ROUTES[path] : undefined;
    if (!route) return fail(res, 404, `no route ${req.method} ${path}`);
    if (badJson || typeof body !== 'object' || body === null)
      return fail(res, 400, 'body must be a JSON object');
    seq += 1;
    await route({ res, body, behavior, seq, models: modelIds });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) openAiError(res, 500, `fake upstream crashed: ${String(error)}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const baseUrl = `http://${host}:${address.port}`;

  return {
    baseUrl,
    url: `${baseUrl}/v1`,
    v1Url: `${baseUrl}/v1`,
    requests,
    setFaults: (next) => book.set(next),
    addFault: (fault) => book.add(fault),
    setOptions(next) {
      base = { ...base, ...next };
    },
    clearRequests() {
      requests.length = 0;
    },
    async waitForRequest(predicate = () => true, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error('fake upstream: no matching request arrived in time');
        await sleep(5);
      }
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
