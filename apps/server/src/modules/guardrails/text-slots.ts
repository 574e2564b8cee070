import { NATIVE_MESSAGES } from '../gateway/index.ts';

/** One piece of text inside a request or an answer that a guardrail reads and may rewrite. */
export interface TextSlot {
  get(): string;
  set(text: string): void;
}

type Json = Record<string | symbol, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

function field(obj: Json, key: string | number): TextSlot {
  const o = obj as Record<string | number, unknown>;
  return { get: () => o[key] as string, set: (t) => (o[key] = t) };
}

/** A string, or an array of parts carrying `text` (OpenAI content parts, Anthropic text blocks). */
function contentSlots(holder: Json, key: string, out: TextSlot[]): void {
  const value = holder[key];
  if (typeof value === 'string') out.push(field(holder, key));
  else if (Array.isArray(value)) {
    for (const part of value) {
      if (typeof part === 'string') continue;
      if (
        isObject(part) &&
        typeof part.text === 'string' &&
        (part.type === undefined || part.type === 'text')
      )
        out.push(field(part, 'text'));
      // Anthropic tool results carry content of their own
      else if (isObject(part) && part.type === 'tool_result') contentSlots(part, 'content', out);
    }
  }
}

function listSlots(holder: Json, key: string, out: TextSlot[]): void {
  const value = holder[key];
  if (typeof value === 'string') out.push(field(holder, key));
  else if (Array.isArray(value))
    value.forEach((item, i) => {
      if (typeof item === 'string') out.push(field(value as unknown as Json, i));
      else if (isObject(item) && typeof item.text === 'string') out.push(field(item, 'text'));
    });
}

function messageSlots(holder: Json, out: TextSlot[]): void {
  if (!Array.isArray(holder.messages)) return;
  for (const m of holder.messages) if (isObject(m)) contentSlots(m, 'content', out);
}

/**
 * The text a request sends, wherever the endpoint carries it: chat messages, a completion prompt,
 * embedding input, a rerank query and documents, and the client's own Anthropic Messages request
 * (sent as is to Anthropic upstreams) when there is one.
 */
export function requestSlots(body: Json): TextSlot[] {
  const out: TextSlot[] = [];
  messageSlots(body, out);
  listSlots(body, 'prompt', out);
  listSlots(body, 'input', out);
  if (typeof body.query === 'string') out.push(field(body, 'query'));
  listSlots(body, 'documents', out);
  const native = body[NATIVE_MESSAGES];
  if (isObject(native)) {
    contentSlots(native, 'system', out);
    messageSlots(native, out);
  }
  return out;
}

/** The text an answer carries: chat messages, completion texts, Anthropic text blocks. */
export function answerSlots(body: Json): TextSlot[] {
  const out: TextSlot[] = [];
  if (Array.isArray(body.choices)) {
    for (const c of body.choices) {
      if (!isObject(c)) continue;
      if (typeof c.text === 'string') out.push(field(c, 'text'));
      if (isObject(c.message)) contentSlots(c.message, 'content', out);
    }
  }
  if (body.type === 'message') contentSlots(body, 'content', out);
  return out;
}

/**
 * Where a stream event carries generated text: `choices[i].delta.content` (chat), `choices[i].text`
 * (completions), or an Anthropic `content_block_delta` text delta. Each has a lane (the choice or
 * block index) so texts of different choices are checked apart.
 */
export function eventSlots(event: Json): { lane: number; slot: TextSlot }[] {
  const out: { lane: number; slot: TextSlot }[] = [];
  if (Array.isArray(event.choices)) {
    for (const c of event.choices) {
      if (!isObject(c)) continue;
      const lane = typeof c.index === 'number' ? c.index : 0;
      if (typeof c.text === 'string') out.push({ lane, slot: field(c, 'text') });
      if (isObject(c.delta) && typeof c.delta.content === 'string')
        out.push({ lane, slot: field(c.delta, 'content') });
    }
  } else if (event.type === 'content_block_delta' && isObject(event.delta)) {
    if (typeof event.delta.text === 'string')
      out.push({ lane: typeof event.index === 'number' ? event.index : 0, slot: field(event.delta, 'text') });
  }
  return out;
}
