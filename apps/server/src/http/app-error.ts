/**
 * The one error type. `code` is a stable snake_case string from the catalog below; `status` is the
 * HTTP status; `type` is OpenAI's error type used when the error is rendered on `/v1`.
 */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'
  | 'api_error';

const catalog = {
  validation_failed: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  unauthenticated: { status: 401, type: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  invalid_credentials: { status: 401, type: 'authentication_error' },
  invalid_token: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  previous_response_not_found: { status: 404, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  content_policy_violation: { status: 400, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  storage_quota_exceeded: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  unprocessable: { status: 422, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  insufficient_quota: { status: 429, type: 'insufficient_quota' },
  internal_error: { status: 500, type: 'server_error' },
  upstream_error: { status: 502, type: 'api_error' },
  service_unavailable: { status: 503, type: 'server_error' },
  guardrail_unavailable: { status: 503, type: 'server_error' },
  upstream_timeout: { status: 504, type: 'api_error' },
  loop_detected: { status: 508, type: 'invalid_request_error' },
} as const satisfies Record<string, { status: number; type: OpenAiErrorType }>;

export type ErrorCode = keyof typeof catalog;

export class AppError extends Error {
  readonly status: number;
  readonly type: OpenAiErrorType;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options: { status?: number; param?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = options.status ?? catalog[code].status;
    this.type = catalog[code].type;
    this.param = options.param ?? null;
    this.headers = options.headers;
  }
  readonly param: string | null;
  readonly headers: Record<string, string> | undefined;
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (message = 'you are not allowed to do this') => new AppError('forbidden', message);
export const conflict = (message: string) => new AppError('conflict', message);
