import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

export const MAX_LINES = 50_000;
export const MAX_INPUT_BYTES = 200 * 1024 * 1024;
/** OpenAI lists at most this many line errors; the batch fails on the first one anyway */
const MAX_ERRORS = 1000;

/** One entry of a batch's `errors.data`, as OpenAI writes it. */
export interface LineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface InputLine {
  line: number;
  customId: string;
  body: Record<string, unknown>;
}

export interface ValidationResult {
  errors: LineError[];
  total: number;
  model: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Path part of a line's url, as OpenAI compares it (`/v1/chat/completions`, with or without a query). */
const urlPath = (url: string) => url.split('?')[0]!;

/**
 * Reads a batch input file line by line (never whole), checks every line as OpenAI does and hands
 * valid lines to `accept` in the order of the file, `chunk` at a time. Line numbers are 1-based.
 * Blank lines are skipped. Stops reading past the limits.
 */
export async function validateInput(
  body: Readable,
  endpoint: BatchEndpoint,
  accept: (lines: InputLine[]) => Promise<void>,
  chunk = 500,
): Promise<ValidationResult> {
  const errors: LineError[] = [];
  const seen = new Set<string>();
  const fail = (code: string, message: string, line: number | null, param: string | null = null) => {
    if (errors.length < MAX_ERRORS) errors.push({ code, message, param, line });
  };
  let model: string | null = null;
  let total = 0;
  let bytes = 0;
  let lineNo = 0;
  let pending: InputLine[] = [];
  const rl = createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of rl) {
    lineNo++;
    bytes += Buffer.byteLength(text) + 1;
    if (bytes > MAX_INPUT_BYTES) {
      fail('file_too_large', `The input file is larger than the ${MAX_INPUT_BYTES} byte limit.`, null);
      break;
    }
    if (text.trim() === '') continue;
    total++;
    if (total > MAX_LINES) {
      fail('too_many_tasks', `The batch has more than the ${MAX_LINES} requests allowed.`, lineNo);
      break;
    }
    const parsed = checkLine(text, lineNo, endpoint, fail);
    if (!parsed) continue;
    if (seen.has(parsed.customId)) {
      fail(
        'duplicate_custom_id',
        `The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.`,
        lineNo,
        'custom_id',
      );
      continue;
    }
    seen.add(parsed.customId);
    const lineModel = parsed.body.model as string;
    if (model === null) model = lineModel;
    else if (lineModel !== model) {
      fail(
        'mismatched_model',
        'All requests in the batch must use the same model; this line names another one.',
        lineNo,
        'body.model',
      );
      continue;
    }
    if (errors.length > 0) continue; // the batch fails anyway: stop storing lines
    pending.push(parsed);
    if (pending.length >= chunk) {
      await accept(pending);
      pending = [];
    }
  }
  if (errors.length === 0 && pending.length > 0) await accept(pending);
  if (errors.length === 0 && total === 0) fail('empty_file', 'The input file has no requests.', null);
  return { errors, total, model };
}

function checkLine(
  text: string,
  line: number,
  endpoint: BatchEndpoint,
  fail: (code: string, message: string, line: number | null, param?: string | null) => void,
): InputLine | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('invalid_json_line', 'This line is not parseable as valid JSON.', line);
    return null;
  }
  if (!isObject(value)) {
    fail('invalid_json_line', 'This line is not a JSON object.', line);
    return null;
  }
  const { custom_id, method, url, body } = value;
  if (typeof custom_id !== 'string' || custom_id === '') {
    fail('missing_required_parameter', 'Missing required parameter: custom_id.', line, 'custom_id');
    return null;
  }
  if (custom_id.length > 512) {
    fail('invalid_custom_id', 'custom_id is longer than 512 characters.', line, 'custom_id');
    return null;
  }
  if (method === undefined) {
    fail('missing_required_parameter', 'Missing required parameter: method.', line, 'method');
    return null;
  }
  if (method !== 'POST') {
    fail('invalid_method', 'The method for this request must be POST.', line, 'method');
    return null;
  }
  if (typeof url !== 'string') {
    fail('missing_required_parameter', 'Missing required parameter: url.', line, 'url');
    return null;
  }
  const path = urlPath(url);
  if (!(BATCH_ENDPOINTS as readonly string[]).includes(path)) {
    fail('invalid_url', `The URL provided for this request is not supported: ${url}.`, line, 'url');
    return null;
  }
  if (path !== endpoint) {
    fail(
      'mismatched_endpoint',
      `The URL provided for this request does not match the batch endpoint (${endpoint}).`,
      line,
      'url',
    );
    return null;
  }
  if (!isObject(body)) {
    fail('missing_required_parameter', 'Missing required parameter: body.', line, 'body');
    return null;
  }
  if (typeof body.model !== 'string' || body.model === '') {
    fail('missing_required_parameter', 'Missing required parameter: body.model.', line, 'body.model');
    return null;
  }
  if (body.stream === true) {
    fail('invalid_request', 'Streaming is not supported in a batch.', line, 'body.stream');
    return null;
  }
  return { line, customId: custom_id, body };
}
