import { tinyPng, tinyWav, wavSeconds } from './media-files.ts';
import type { RouteContext } from './openai-routes.ts';
import { openAiError, sendJson } from './openai-routes.ts';

/** A file part of a multipart request, as the fake upstream recorded it. */
export interface FakeUpload {
  filename: string;
  type: string;
  size: number;
  data: Buffer;
}

/** Parses a multipart body (the platform's FormData parser): text fields as strings, files as FakeUpload. */
export async function readForm(body: Buffer, contentType: string): Promise<Record<string, unknown>> {
  const form = await new Response(new Uint8Array(body), {
    headers: { 'content-type': contentType },
  }).formData();
  const out: Record<string, unknown> = {};
  for (const [name, value] of form.entries()) {
    const item =
      typeof value === 'string'
        ? value
        : {
            filename: value.name,
            type: value.type,
            size: value.size,
            data: Buffer.from(await value.arrayBuffer()),
          };
    const had = out[name];
    out[name] = had === undefined ? item : Array.isArray(had) ? [...had, item] : [had, item];
  }
  return out;
}

const created = () => Math.floor(Date.now() / 1000);

/**
 * Images: `n` tiny real PNGs, as b64_json (default) or as a `url` (behavior.imageUrl, else one on
 * this upstream). Edits and variations need their `image` file.
 */
export async function images({ res, body, behavior, seq }: RouteContext, edit: boolean): Promise<void> {
  if (edit && body.image === undefined && body['image[]'] === undefined)
    return openAiError(res, 400, "Missing required parameter: 'image'.");
  const n = Number(body.n ?? 1);
  const png = tinyPng(2).toString('base64');
  const data = Array.from({ length: n }, (_, i) =>
    body.response_format === 'url'
      ? { url: behavior.imageUrl ?? `http://127.0.0.1:1/fake-images/${seq}-${i}.png` }
      : { b64_json: png, revised_prompt: typeof body.prompt === 'string' ? body.prompt : undefined },
  );
  sendJson(res, 200, { created: created(), data });
}

/** Speech: a real WAV of about one second per 15 characters of input (at least 0.1 s). */
export async function speech({ res, body }: RouteContext): Promise<void> {
  if (typeof body.input !== 'string') return openAiError(res, 400, '`input` is required');
  const wav = tinyWav(Math.max(0.1, body.input.length / 15));
  res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
  // two writes: the gateway must relay a body that arrives in parts
  res.write(wav.subarray(0, 44));
  res.end(wav.subarray(44));
}

/**
 * Transcription and translation: a text naming the file, with its duration (from the WAV header) in
 * verbose_json; json, text, srt and vtt as OpenAI writes them.
 */
export async function transcription({ res, body }: RouteContext): Promise<void> {
  const file = body.file as { data?: Buffer; filename?: string } | undefined;
  if (!file?.data) return openAiError(res, 400, "Missing required parameter: 'file'.");
  const duration = wavSeconds(file.data) ?? 1;
  const text = `fake transcript of ${file.filename} (${duration.toFixed(2)} s)`;
  const stamp = (s: number, sep: string) =>
    `${new Date(s * 1000).toISOString().slice(11, 19)}${sep}${String(Math.round((s % 1) * 1000)).padStart(3, '0')}`;
  switch (body.response_format ?? 'json') {
    case 'text':
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(`${text}\n`);
    case 'srt':
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(`1\n${stamp(0, ',')} --> ${stamp(duration, ',')}\n${text}\n\n`);
    case 'vtt':
      res.writeHead(200, { 'content-type': 'text/vtt; charset=utf-8' });
      return void res.end(`WEBVTT\n\n${stamp(0, '.')} --> ${stamp(duration, '.')}\n${text}\n\n`);
    case 'verbose_json':
      return sendJson(res, 200, {
        task: 'transcribe',
        language: typeof body.language === 'string' ? body.language : 'english',
        duration,
        text,
        segments: [{ id: 0, start: 0, end: duration, text }],
      });
    default:
      return sendJson(res, 200, { text });
  }
}
