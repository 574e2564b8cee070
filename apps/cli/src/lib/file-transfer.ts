import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type OpenAI from 'openai';
import { timeoutMs } from './api-client.ts';
import { CliError, EXIT, errorFromResponse, usageError } from './errors.ts';
import type { KeyTarget } from './gateway-key.ts';
import type { Bar } from './progress-bar.ts';

/** OpenAI's FileObject, as /v1/files answers it. */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  status: string;
}

export interface UploadOptions {
  path: string;
  purpose: string;
  /** seconds after creation the file expires (expires_after[seconds], anchor created_at) */
  expiresAfter?: number;
  bar: Bar;
}

/** A regular file's size, or exit 2 naming why it cannot be uploaded. */
function sizeOf(path: string): number {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw usageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!st.isFile()) throw usageError(`${path} is not a file`);
  return st.size;
}

/** A filename safe inside a Content-Disposition header (quotes, CR and LF dropped). */
const headerFilename = (path: string) => basename(path).replace(/["\r\n\\]/g, '_') || 'upload';

/** The multipart body around the file: fields first, so the server checks them before a byte is stored. */
function multipartEnvelope(opts: UploadOptions, boundary: string): { head: Buffer; tail: Buffer } {
  const field = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head =
    field('purpose', opts.purpose) +
    (opts.expiresAfter !== undefined
      ? field('expires_after[anchor]', 'created_at') +
        field('expires_after[seconds]', String(opts.expiresAfter))
      : '') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${headerFilename(opts.path)}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  return { head: Buffer.from(head), tail: Buffer.from(`\r\n--${boundary}--\r\n`) };
}

/**
 * Uploads a file to /v1/files as multipart/form-data, streamed from disk with its exact length
 * (the whole file is never in memory); the bar follows the bytes as the request body consumes them.
 * The SDK's own upload reads a stream into memory first, hence this one.
 */
export async function uploadFile(target: KeyTarget, opts: UploadOptions): Promise<FileObject> {
  const size = sizeOf(opts.path);
  const boundary = `maas-${randomBytes(16).toString('hex')}`;
  const { head, tail } = multipartEnvelope(opts, boundary);
  let sent = 0;
  opts.bar.update(0, size);
  async function* body() {
    yield head;
    for await (const chunk of createReadStream(opts.path, { highWaterMark: 256 * 1024 })) {
      sent += (chunk as Buffer).length;
      opts.bar.update(sent, size);
      yield chunk as Buffer;
    }
    yield tail;
  }
  let res: Response;
  try {
    res = await fetch(`${target.server}/v1/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${target.apiKey}`,
        accept: 'application/json',
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + size + tail.length),
      },
      body: Readable.toWeb(Readable.from(body())) as ReadableStream,
      duplex: 'half',
      signal: AbortSignal.timeout(Math.max(timeoutMs(), 600_000)),
    } as RequestInit);
  } catch (err) {
    opts.bar.stop();
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach the server at ${target.server} (${cause?.code ?? cause?.message ?? (err as Error).message})`,
      EXIT.server,
      'unreachable',
    );
  }
  opts.bar.stop();
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  if (!res.ok) throw errorFromResponse(res.status, parsed);
  return parsed as FileObject;
}

/** A chunk counter between the response and the file. */
function counting(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

const FORMAT_WORDS = ['table', 'json', 'yaml'];

/** For the download commands `-o` names the file to write; a format word there is a mistake. */
export function downloadTarget(output: string | undefined): string | undefined {
  if (output === undefined || output === '-') return undefined;
  if (FORMAT_WORDS.includes(output))
    throw usageError(
      `-o names the file to write here, not a format (for a file named ${output}, say ./${output})`,
    );
  return output;
}

/**
 * Streams a file's content to `dest` (written beside it under a temporary name and renamed into
 * place once complete, so a failed download leaves nothing) or to stdout. Returns the byte count.
 */
export async function downloadFile(
  client: OpenAI,
  fileId: string,
  dest: string | undefined,
  bar: Bar,
): Promise<number> {
  const res = await client.files.content(fileId);
  const total = Number(res.headers.get('content-length')) || 0;
  if (!res.body) return 0;
  let got = 0;
  const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  const counter = counting((n) => {
    got += n;
    bar.update(got, Math.max(total, got));
  });
  if (!dest) {
    await pipeline(source, counter, process.stdout, { end: false });
    bar.stop();
    return got;
  }
  const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.part`);
  try {
    await pipeline(source, counter, createWriteStream(tmp));
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    bar.stop();
  }
  return got;
}
