import { isOutboundRefused } from './connector.ts';

export const OUTBOUND_REFUSED_MESSAGE = 'address not allowed by the outbound policy';

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_DESTROYED: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EAI_NONAME: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'host unreachable',
  EADDRNOTAVAIL: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_BODY_TIMEOUT: 'timed out',
  ETIMEDOUT: 'timed out',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'response too large',
};

/**
 * A short, generic description of a network error: its class only, never the address, the
 * upstream's words or a secret (`connection refused`, `timed out`, `TLS error` …).
 */
export function describeNetworkError(err: unknown): string {
  if (isOutboundRefused(err)) return OUTBOUND_REFUSED_MESSAGE;
  let e = err as { code?: unknown; name?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if (e.name === 'TimeoutError') return 'timed out';
    if (e.name === 'AbortError') return 'aborted';
    const code = typeof e.code === 'string' ? e.code : '';
    if (BY_CODE[code]) return BY_CODE[code];
    if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/.test(code))
      return 'TLS error';
    e = e.cause as typeof e;
  }
  return 'connection failed';
}
