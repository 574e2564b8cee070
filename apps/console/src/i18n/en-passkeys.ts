/** English messages of passkeys (profile and the sign-in step); zh-passkeys.ts has every key. */
export const enPasskeys = {
  'passkeys.title': 'Passkeys',
  'passkeys.hint':
    'A passkey (your device’s screen lock, a security key or a phone) can answer the second sign-in step instead of a code.',
  'passkeys.add': 'Add a passkey',
  'passkeys.name': 'Name',
  'passkeys.name_placeholder': 'e.g. work laptop',
  'passkeys.added': 'Passkey added',
  'passkeys.removed': 'Passkey removed',
  'passkeys.remove': 'Remove',
  'passkeys.remove_confirm': 'Remove this passkey? It can no longer sign you in.',
  'passkeys.empty': 'No passkeys yet',
  'passkeys.last_used': 'Last used',
  'passkeys.never': 'Never',
  'passkeys.cancelled': 'The browser did not make a passkey (cancelled or not supported).',
  'login.mfa_passkey': 'Use a passkey',
  'login.mfa_passkey_failed': 'The passkey did not sign you in. Try again or use a code.',
};
