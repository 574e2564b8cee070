import type { FastifyReply } from 'fastify';
import { AppError } from '../../../http/app-error.ts';

/** The error types of the Anthropic API (https://docs.anthropic.com/en/api/errors). */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

/** Anthropic's type and HTTP status for one of our errors (overloaded is Anthropic's 529). */
export function anthropicErrorOf(err: AppError): { status: number; type: AnthropicErrorType } {
  const status = err.status;
  if (status === 401) return { status, type: 'authentication_error' };
  if (status === 403) return { status, type: 'permission_error' };
  if (status === 404) return { status, type: 'not_found_error' };
  if (status === 413) return { status, type: 'request_too_large' };
  if (status === 429) return { status, type: 'rate_limit_error' };
  if (status === 503) return { status: 529, type: 'overloaded_error' };
  if (status >= 500) return { status, type: 'api_error' };
  return { status: status >= 400 ? status : 400, type: 'invalid_request_error' };
}

export function anthropicErrorBody(type: AnthropicErrorType, message: string) {
  return { type: 'error' as const, error: { type, message } };
}

/** Renders any error in Anthropic's shape: `{type:'error', error:{type, message}}`. */
export function sendAnthropicError(reply: FastifyReply, err: unknown): FastifyReply {
  const e = toAppError(err);
  const { status, type } = anthropicErrorOf(e);
  if (e.headers) reply.headers(e.headers);
  return reply.code(status).send(anthropicErrorBody(type, e.message));
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fastify = err as { statusCode?: number; code?: string; message?: string };
  if (
    fastify?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    fastify?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    err instanceof SyntaxError
  )
    return new AppError('invalid_json', 'The request body is not valid JSON.');
  const status = fastify?.statusCode;
  if (status && status >= 400 && status < 500)
    return new AppError('validation_failed', fastify.message ?? 'invalid request', undefined, { status });
  return new AppError('internal_error', 'Internal server error.');
}

/** A 400 invalid_request_error, Anthropic's answer to a body it cannot take. */
export const invalidRequest = (message: string, param: string | null = null) =>
  new AppError('validation_failed', message, undefined, { param });
