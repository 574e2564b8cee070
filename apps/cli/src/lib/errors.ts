/**
 * Exit codes are part of the CLI's contract: scripts branch on them, so they never change meaning.
 * Documented in `maas --help` and README.md.
 */
export const EXIT = {
  ok: 0,
  /** anything else, including a check that ran and failed (`audit verify`, `status`) */
  general: 1,
  /** bad arguments or options, an invalid file, a missing value in a non-interactive run */
  usage: 2,
  /** not logged in, bad credentials, expired session, not allowed (401, 403) */
  auth: 3,
  /** the resource, or the endpoint, does not exist (404) */
  notFound: 4,
  /** the server refused the change: conflict, validation, unprocessable, limited (400, 409, 422, 429) */
  conflict: 5,
  /** the server failed or could not be reached (5xx, network errors, timeouts) */
  server: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  general failure, or a check that failed (audit verify, status)
  2  usage: bad arguments, options or file
  3  auth: not logged in, bad credentials, not allowed
  4  not found
  5  refused: conflict, validation, limit
  6  server error or server unreachable`;

/** An error the CLI reports as `error: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.general,
    readonly code?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage, 'usage');

/** The exit code for an HTTP status (admin envelope or OpenAI error). */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status >= 500) return EXIT.server;
  if (status >= 400) return EXIT.conflict;
  return EXIT.general;
}

/** Builds a CliError from an error response body: `{error:{code,message,details}}` or OpenAI's shape. */
export function errorFromResponse(status: number, body: unknown): CliError {
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  const message =
    typeof err?.message === 'string' ? err.message : `the server answered ${status}${bodySnippet(body)}`;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  return new CliError(message, exitCodeForStatus(status), code, err?.details);
}

function bodySnippet(body: unknown): string {
  if (body === null || body === undefined || body === '') return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `: ${text.slice(0, 200)}`;
}
