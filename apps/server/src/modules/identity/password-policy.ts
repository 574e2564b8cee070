import { AppError } from '../../http/app-error.ts';

export const MIN_PASSWORD_LENGTH = 12;

/**
 * Passwords of 12 or more characters that top the public leak lists; shorter ones are refused by
 * length already. Compared case-insensitively.
 */
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678910',
  '123456789101',
  '1234567891011',
  '111111111111',
  '000000000000',
  '123123123123',
  '123412341234',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'password123!',
  'qwertyuiopasdfgh',
  'qwertyuiop123',
  'qwertyuiopas',
  'qwerty123456',
  '1qaz2wsx3edc',
  '1q2w3e4r5t6y',
  'zaq12wsxcde3',
  'abcdefghijkl',
  'abc123abc123',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'welcome123456',
  'administrator',
  'administrator1',
  'admin1234567',
  'adminadmin123',
  'changeme1234',
  'changemenow!',
  'trustno1trustno1',
  'football1234',
  'baseball1234',
  'starwars1234',
  'sunshine1234',
  'princess1234',
  'superman1234',
  'monkey123456',
  'dragon123456',
  'master123456',
  'michael12345',
  'computer1234',
  'internet1234',
  'whatever1234',
  'correcthorsebatterystaple',
]);

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  const address = email.trim().toLowerCase();
  const local = address.split('@')[0] ?? '';
  if (lower === address || lower === local) return 'must not be your email address';
  if (COMMON.has(lower)) return 'is one of the most common passwords';
  if (new Set(lower).size < 4) return 'has too few different characters';
  return null;
}

/** Applies to every new or changed password, whoever sets it. */
export function assertPasswordPolicy(password: string, email: string, param = 'password'): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new AppError('validation_failed', `${param}: ${problem}`, undefined, { param });
}
