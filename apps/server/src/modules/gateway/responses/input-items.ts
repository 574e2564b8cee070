import { itemId } from './item-ids.ts';
import { badRequest } from './responses-body.ts';

export type Item = Record<string, unknown>;

const ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const UNSUPPORTED_ITEMS = new Set([
  'file_search_call',
  'web_search_call',
  'computer_call',
  'computer_call_output',
  'image_generation_call',
  'code_interpreter_call',
  'local_shell_call',
  'local_shell_call_output',
  'mcp_call',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'custom_tool_call',
  'custom_tool_call_output',
  'item_reference',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request's `input` as stored items, each with an id: a string is one user message; messages
 * get their content as parts (`input_text`, `input_image`; `output_text` for the assistant's);
 * `function_call` and `function_call_output` items are kept; `reasoning` items are kept but never
 * sent upstream. Anything else is refused with a 400 naming the item.
 */
export function normalizeInput(input: string | unknown[] | undefined): Item[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [message('user', [{ type: 'input_text', text: input }])];
  return input.map((raw, i) => normalizeItem(raw, `input[${i}]`));
}

function message(role: string, content: Item[], id = itemId('msg')): Item {
  return { id, type: 'message', role, content, status: 'completed' };
}

function normalizeItem(raw: unknown, at: string): Item {
  if (!isObject(raw)) throw badRequest(`Invalid '${at}': expected an object.`, at);
  const type = raw.type ?? 'message';
  if (type === 'message') {
    const role = raw.role;
    if (typeof role !== 'string' || !ROLES.has(role))
      throw badRequest(
        `Invalid '${at}.role': expected one of 'user', 'assistant', 'system', 'developer'.`,
        `${at}.role`,
      );
    const id = typeof raw.id === 'string' && raw.id ? raw.id : itemId('msg');
    return message(role, contentParts(raw.content, role, `${at}.content`), id);
  }
  if (type === 'function_call') {
    for (const field of ['call_id', 'name', 'arguments'])
      if (typeof raw[field] !== 'string')
        throw badRequest(`Missing required parameter: '${at}.${field}'.`, `${at}.${field}`);
    return {
      id: typeof raw.id === 'string' && raw.id ? raw.id : itemId('fc'),
      type,
      status: 'completed',
      call_id: raw.call_id,
      name: raw.name,
      arguments: raw.arguments,
    };
  }
  if (type === 'function_call_output') {
    if (typeof raw.call_id !== 'string' || !raw.call_id)
      throw badRequest(`Missing required parameter: '${at}.call_id'.`, `${at}.call_id`);
    const output = typeof raw.output === 'string' ? raw.output : outputText(raw.output, `${at}.output`);
    return {
      id: typeof raw.id === 'string' && raw.id ? raw.id : itemId('fco'),
      type,
      status: 'completed',
      call_id: raw.call_id,
      output,
    };
  }
  if (type === 'reasoning') return { ...raw, id: typeof raw.id === 'string' ? raw.id : itemId('rs') };
  if (typeof type === 'string' && UNSUPPORTED_ITEMS.has(type))
    throw badRequest(`Input items of type '${type}' are not supported by this gateway.`, `${at}.type`);
  throw badRequest(`Invalid '${at}.type': unknown item type '${String(type)}'.`, `${at}.type`);
}

/** A function call's output given as parts: their text, joined. */
function outputText(parts: unknown, at: string): string {
  if (!Array.isArray(parts)) throw badRequest(`Invalid '${at}': expected a string or a list of parts.`, at);
  return parts
    .map((p, i) => {
      if (isObject(p) && (p.type === 'input_text' || p.type === 'output_text') && typeof p.text === 'string')
        return p.text;
      throw badRequest(
        `Invalid '${at}[${i}]': only text parts are supported in a function call output.`,
        `${at}[${i}]`,
      );
    })
    .join('');
}

function contentParts(content: unknown, role: string, at: string): Item[] {
  const textType = role === 'assistant' ? 'output_text' : 'input_text';
  if (typeof content === 'string') return [textPart(textType, content)];
  if (!Array.isArray(content)) throw badRequest(`Invalid '${at}': expected a string or a list of parts.`, at);
  return content.map((p, i) => {
    const here = `${at}[${i}]`;
    if (!isObject(p)) throw badRequest(`Invalid '${here}': expected an object.`, here);
    if (p.type === 'input_text' || p.type === 'output_text') {
      if (typeof p.text !== 'string')
        throw badRequest(`Missing required parameter: '${here}.text'.`, `${here}.text`);
      return textPart(p.type, p.text);
    }
    if (p.type === 'refusal' && typeof p.refusal === 'string') return { type: 'refusal', refusal: p.refusal };
    if (p.type === 'input_image') {
      if (role === 'assistant')
        throw badRequest(`Invalid '${here}': an assistant message cannot hold an image.`, here);
      if (typeof p.image_url !== 'string' || !p.image_url)
        throw badRequest(
          p.file_id
            ? `Invalid '${here}': images by file_id are not supported by this gateway; send image_url.`
            : `Missing required parameter: '${here}.image_url'.`,
          `${here}.image_url`,
        );
      return { type: 'input_image', image_url: p.image_url, detail: p.detail ?? 'auto' };
    }
    throw badRequest(
      `Content parts of type '${String(p.type)}' are not supported by this gateway.`,
      `${here}.type`,
    );
  });
}

function textPart(type: string, text: string): Item {
  return type === 'output_text' ? { type, text, annotations: [] } : { type, text };
}
