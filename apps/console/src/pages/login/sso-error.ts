import { type MessageKey, useT } from '../../i18n/index.tsx';

const KNOWN = new Set([
  'invalid_state',
  'email_not_verified',
  'no_membership',
  'no_account',
  'no_email',
  'user_disabled',
  'unknown_provider',
  'provider_unreachable',
  'idp_error',
  'exchange_failed',
]);

/** The login page's message for `?sso_error=<reason>` (a reason the server names), or null. */
export function useSsoError(reason: string | null): string | null {
  const t = useT();
  if (!reason) return null;
  if (KNOWN.has(reason)) return t(`login.sso_error.${reason}` as MessageKey);
  return t('login.sso_error.other', { reason: reason.replace(/[^a-z_]/g, '').slice(0, 40) });
}
