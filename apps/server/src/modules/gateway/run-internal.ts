import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/app-error.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { UsageEvent, UsageWriter } from '../metering/index.ts';
import type { Endpoint, MediaEndpoint } from './adapters/types.ts';
import type { GatewayContext } from './context.ts';
import { proxyMedia } from './media/proxy-media.ts';
import { proxyRequest } from './proxy-request.ts';

export interface InternalRequest {
  key: KeyPrincipal;
  endpoint: Endpoint;
  body: Record<string, unknown>;
  requestId: string;
  /**
   * Where the request's one usage event goes instead of the shared writer (a batch writes it with
   * the line's answer, in one transaction). Absent: the writer, as for live traffic.
   */
  captureUsage?: boolean;
  /** a batch line: draws on the batch's quota hold and is priced with the batch discount */
  batchId?: string | undefined;
  /** aborts the request as a client disconnect would: the upstream call is cut, what ran is billed */
  signal?: AbortSignal | undefined;
}

export interface InternalResponse {
  status: number;
  /** the JSON answer, or OpenAI's `{error:{message,type,param,code}}` */
  body: unknown;
  /** with `captureUsage`: the usage event, for the caller to write */
  usage: UsageEvent | null;
  /** a binary answer (speech audio), with its content type; `body` is null then */
  binary?: { data: Buffer; contentType: string } | undefined;
}

/** JSON media endpoints that can run without an HTTP request (async jobs). */
const MEDIA_JSON = new Set<Endpoint>(['images.generations', 'audio.speech']);

/**
 * Runs one non-stream request as `key` through the same path as live /v1 traffic (admission and
 * limits, routing, retries, fallbacks, one usage event). For work that has no HTTP request of its
 * own: batch lines, async inference.
 */
export async function runInternal(gw: GatewayContext, input: InternalRequest): Promise<InternalResponse> {
  let usage: UsageEvent | null = null;
  let wrote: () => void = () => {};
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  const ctx: GatewayContext = input.captureUsage
    ? {
        ...gw,
        usage: {
          write(event: UsageEvent) {
            usage = event;
            wrote();
          },
        } as unknown as UsageWriter,
      }
    : gw;
  const { stream: _stream, ...body } = input.body;
  const reply = new CapturedReply();
  const req = { id: input.requestId, principal: input.key, body } as unknown as FastifyRequest;
  const abort = () => reply.raw.close();
  if (input.signal?.aborted) abort();
  else input.signal?.addEventListener('abort', abort, { once: true });
  try {
    if (MEDIA_JSON.has(input.endpoint))
      await proxyMedia(ctx, req, reply as unknown as FastifyReply, input.endpoint as MediaEndpoint, 0);
    else
      await proxyRequest(ctx, req, reply as unknown as FastifyReply, input.endpoint, {
        batchId: input.batchId,
      });
  } catch (err) {
    const e =
      err instanceof AppError ? err : new AppError('internal_error', 'The request failed inside maas.');
    reply.status = e.status;
    reply.payload = { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
  }
  input.signal?.removeEventListener('abort', abort);
  if (input.captureUsage) await written;
  const binary = reply.binary();
  if (binary) return { status: reply.status, body: null, usage, binary };
  return { status: reply.status, body: parse(reply.payload), usage };
}

/**
 * The answer for work whose key was revoked or expired after it was queued: deferred work runs as
 * the key is now, so a revoked key stops spending (nothing reaches an upstream, nothing is billed).
 */
export function revokedKeyAnswer(): InternalResponse {
  const error = {
    message: 'The API key this request runs as was revoked or has expired.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  };
  return { status: 401, body: { error }, usage: null };
}

function parse(payload: unknown): unknown {
  if (Buffer.isBuffer(payload)) payload = payload.toString('utf8');
  if (typeof payload !== 'string') return payload ?? null;
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/** The parts of a Fastify reply a non-stream answer uses. */
class CapturedReply {
  status = 200;
  /** the written bytes when a relay streamed them and they are not JSON (speech audio) */
  binary(): { data: Buffer; contentType: string } | null {
    const type = this.headerBag['content-type'] ?? '';
    if (this.raw.chunks.length === 0 || type.includes('json')) return null;
    return { data: Buffer.concat(this.raw.chunks), contentType: type };
  }
  payload: unknown = null;
  /** a socket's close, played when the caller's signal aborts (proxyRequest cuts the upstream then) */
  readonly raw = {
    writableFinished: false,
    listeners: [] as (() => void)[],
    on(event: string, fn: () => void) {
      if (event === 'close') this.listeners.push(fn);
    },
    close() {
      for (const fn of this.listeners.splice(0)) fn();
    },
    destroy() {},
    /** a relay that streams (speech audio) writes here */
    chunks: [] as Buffer[],
    writeHead: (status: number, headers: Record<string, string>) => {
      this.status = status;
      this.headers(headers);
    },
    write(chunk: Buffer) {
      this.chunks.push(chunk);
      return true;
    },
    end(chunk?: Buffer) {
      if (chunk) this.chunks.push(chunk);
      this.writableFinished = true;
    },
  };
  private readonly headerBag: Record<string, string> = {};
  code(status: number) {
    this.status = status;
    return this;
  }
  header(name: string, value: string) {
    this.headerBag[name.toLowerCase()] = value;
    return this;
  }
  headers(values: Record<string, string>) {
    for (const [k, v] of Object.entries(values)) this.header(k, v);
    return this;
  }
  getHeaders() {
    return this.headerBag;
  }
  send(payload: unknown) {
    this.payload = payload;
    return this;
  }
  hijack() {
    return this;
  }
}
