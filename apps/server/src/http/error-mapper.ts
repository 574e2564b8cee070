import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode } from './app-error.ts';

/** Maps every error to the admin envelope on `/api/v1` and to OpenAI's shape on `/v1`. */
export function registerErrorMapper(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const appErr = toAppError(err);
    if (appErr.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.warn({ code: appErr.code, msg: appErr.message }, 'request rejected');
    return sendError(req, reply, appErr);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(
      req,
      reply,
      new AppError('not_found', `route ${req.method} ${req.url.split('?')[0]} not found`),
    ),
  );
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  reply.code(err.status);
  if (isOpenAiSurface(req.url)) {
    return reply.send({
      error: { message: err.message, type: err.type, param: err.param, code: err.code },
    });
  }
  return reply.send({
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  });
}

export function isOpenAiSurface(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');
}

/** PostgreSQL errors caused by the caller's text (NUL bytes, bad encodings), not by the server. */
const PG_BAD_INPUT = new Set(['22021', '22P05', '54000']);

function toAppError(err: FastifyError | AppError): AppError {
  if (err instanceof AppError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => ({
      path: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
      message: v.message,
    }));
    const first = issues[0];
    const param = first?.path.split('.').slice(1).join('.') || null;
    return new AppError(
      'validation_failed',
      first ? `${first.path}: ${first.message}` : 'invalid request',
      { issues },
      { param },
    );
  }
  const pgCode = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
  if (pgCode && PG_BAD_INPUT.has(pgCode)) {
    return new AppError('validation_failed', 'text must be valid UTF-8 without NUL characters');
  }
  const status = err.statusCode ?? 500;
  if (status >= 500) return new AppError('internal_error', 'internal server error');
  const byFastifyCode: Record<string, ErrorCode> = {
    FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
    FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  };
  const code: ErrorCode =
    byFastifyCode[err.code] ??
    (status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'validation_failed');
  const message =
    err instanceof SyntaxError || code === 'invalid_json' ? 'request body is not valid JSON' : err.message;
  return new AppError(code, message, undefined, { status: status >= 400 && status < 500 ? status : 400 });
}
