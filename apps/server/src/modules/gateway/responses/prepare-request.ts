import { AppError } from '../../../http/app-error.ts';
import type { KeyPrincipal } from '../../../http/principal.ts';
import { newId } from '../../../ids.ts';
import { type FileSearchDone, type FileSearchPort, runFileSearchTools } from './file-search.ts';
import { normalizeInput } from './input-items.ts';
import { echoedRequest, type ResponseRecord } from './response-object.ts';
import type { ResponseStore } from './response-store.ts';
import { type CreateResponseBody, parseCreateBody } from './responses-body.ts';
import { toChatBody } from './to-chat.ts';

/** A create request made ready: its body, the chat completion it runs as, its record so far. */
export interface PreparedResponse {
  body: CreateResponseBody;
  chat: Record<string, unknown>;
  record: ResponseRecord;
  /** what its file_search tools found (null: none) */
  fileSearch: FileSearchDone | null;
}

/**
 * Parses a create request and builds its conversation: the previous response's (the key's own
 * project's, stored, unexpired) input and output items, then this request's input. A previous
 * response that is not found, or belongs to anyone else, is OpenAI's 404.
 */
export async function prepareResponse(
  store: ResponseStore,
  key: KeyPrincipal,
  raw: unknown,
  retentionMs: number,
  fileSearch: FileSearchPort | null = null,
): Promise<PreparedResponse> {
  const body = parseCreateBody(raw);
  const input = normalizeInput(body.input);
  let earlier: ResponseRecord['inputItems'] = [];
  if (body.previous_response_id) {
    const previous = await store.find(key, body.previous_response_id);
    if (!previous)
      throw new AppError(
        'previous_response_not_found',
        `Previous response with id '${body.previous_response_id}' not found.`,
        undefined,
        { param: 'previous_response_id' },
      );
    if (previous.status === 'queued' || previous.status === 'in_progress')
      throw new AppError(
        'validation_failed',
        `Previous response with id '${previous.id}' is still ${previous.status}; wait until it completes.`,
        undefined,
        { param: 'previous_response_id' },
      );
    earlier = [...previous.inputItems, ...previous.output];
  }
  const conversation = [...earlier, ...input];
  const now = new Date();
  const record: ResponseRecord = {
    id: newId('resp'),
    orgId: key.orgId,
    projectId: key.projectId,
    keyId: key.keyId,
    model: body.model,
    status: body.background ? 'queued' : 'in_progress',
    background: body.background === true,
    previousResponseId: body.previous_response_id ?? null,
    jobId: null,
    request: echoedRequest(body),
    inputItems: conversation,
    output: [],
    usage: null,
    error: null,
    incompleteDetails: null,
    createdAt: now,
    completedAt: null,
    expiresAt: new Date(now.getTime() + retentionMs),
    store: body.store !== false,
  };
  const chat = toChatBody(body, conversation);
  const searched = await runFileSearchTools(fileSearch, key, body, conversation, chat);
  return { body, chat, record, fileSearch: searched };
}
