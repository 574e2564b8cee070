import { ApiError } from '../api/client.ts';
import { type MessageKey, useT } from '../i18n/index.tsx';

const known = new Set<string>([
  'network_error',
  'unauthenticated',
  'invalid_token',
  'invalid_credentials',
  'forbidden',
  'not_found',
  'conflict',
  'rate_limited',
  'internal_error',
  'invalid_api_key',
  'payload_too_large',
]);

/** An error in words a person understands, in the chosen language, with the server's detail when useful. */
export function useErrorText(): (err: unknown) => string {
  const t = useT();
  return (err: unknown) => {
    if (err instanceof ApiError) {
      if (err.isMissingRoute) return t('error.missing_route');
      if (err.code === 'validation_failed') return t('error.validation_failed', { detail: err.message });
      if (known.has(err.code)) {
        const base = t(`error.${err.code}` as MessageKey);
        return err.code === 'conflict' || err.code === 'forbidden' ? `${base} (${err.message})` : base;
      }
      if (err.status >= 500) return t('error.internal_error');
      return err.message;
    }
    if (err instanceof Error) return err.message;
    return t('error.unknown');
  };
}
