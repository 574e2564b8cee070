import type { Readable } from 'node:stream';
import type { ProviderType } from '../../providers/schema.ts';

/** The inference endpoints of `/v1`. */
export type Endpoint = 'chat.completions' | 'completions' | 'embeddings' | 'rerank' | MediaEndpoint;

/** The image and audio endpoints of `/v1` (gateway/media). */
export type MediaEndpoint =
  | 'images.generations'
  | 'images.edits'
  | 'images.variations'
  | 'audio.speech'
  | 'audio.transcriptions'
  | 'audio.translations';

/** Token counts as the upstream reported them (or as we estimated them). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  raw: unknown;
}

/** What an adapter needs to know about the provider it talks to. */
export interface ProviderConnection {
  /** path prefix of the provider's base URL, without a trailing slash (e.g. `/v1`) */
  basePath: string;
  apiKey: string | null;
  headers: Record<string, string>;
}

export interface RequestOptions {
  /** the client asked for a stream */
  stream: boolean;
  /** ask the upstream to report usage in the stream */
  includeUsage: boolean;
}

export interface UpstreamRequest {
  path: string;
  /** a stream only for multipart uploads (built anew for each attempt) */
  body: string | Buffer | Readable;
  /** the body's content type when it is not JSON (multipart uploads) */
  contentType?: string;
}

export interface ResponseOptions {
  endpoint: Endpoint;
  /** the client's `encoding_format` for embeddings (undefined: float) */
  encodingFormat: string | undefined;
  /** the model name the client used */
  model: string;
  requestId: string;
  /** the client spoke the provider's own API (Anthropic Messages): the answer goes back unchanged */
  native?: boolean;
}

export interface TranslatedResponse {
  /** the bytes to send to the client */
  body: Buffer | string;
  usage: Usage | null;
  /** generated text, for a token estimate when the upstream reports no usage */
  completionText: string;
}

export interface StreamOptions {
  endpoint: Endpoint;
  model: string;
  requestId: string;
  /** the client asked for `stream_options.include_usage` */
  clientWantsUsage: boolean;
  /** we asked for usage on the client's behalf: hide the usage-only chunk */
  hideUsageChunk: boolean;
  /** the client spoke the provider's own API (Anthropic Messages): bytes pass through unchanged */
  native?: boolean;
}

/** Turns upstream stream bytes into client stream bytes, watching for usage on the way. */
export interface StreamTranslator {
  /** bytes to send to the client now (null: nothing yet) */
  push(chunk: Buffer): Buffer | string | null;
  /** the upstream ended; bytes still to send */
  end(): Buffer | string | null;
  /** usage reported by the upstream, once seen */
  readonly usage: Usage | null;
  /** the stream reached its proper end (`[DONE]` or `message_stop`) */
  readonly complete: boolean;
  /** text generated so far, for estimates */
  completionText(): string;
}

/** An upstream error answer, classified. */
export interface UpstreamFailure {
  status: number;
  message: string;
  /** upstream's error code/type, when given */
  code: string | null;
  /** the prompt did not fit the model's context */
  contextLength: boolean;
}

export interface ProbeRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

/** Provider knowledge: how to address, translate and read one kind of upstream. */
export interface Adapter {
  readonly type: ProviderType;
  supports(endpoint: Endpoint): boolean;
  /** request headers for every call to this provider (computed once per provider) */
  headers(conn: ProviderConnection): Record<string, string>;
  buildRequest(
    endpoint: Endpoint,
    body: Record<string, unknown>,
    upstreamModel: string,
    conn: ProviderConnection,
    opts: RequestOptions,
  ): UpstreamRequest;
  readResponse(body: Buffer, opts: ResponseOptions): TranslatedResponse;
  streamTranslator(opts: StreamOptions): StreamTranslator;
  readError(status: number, body: Buffer): UpstreamFailure;
  /** a cheap request that tells whether the upstream answers (connection test, health probe) */
  probe(conn: ProviderConnection): ProbeRequest;
}
