import { describe, expect, it } from 'vitest';
import { hashRecoveryCode, looksLikeRecoveryCode, newRecoveryCodes } from './recovery-codes.ts';

describe('recovery codes', () => {
  it('makes ten distinct readable codes', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) {
      expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
      expect(looksLikeRecoveryCode(c)).toBe(true);
    }
  });

  it('hashes a code typed back in another case or without its dash the same', () => {
    const [code] = newRecoveryCodes(1);
    expect(hashRecoveryCode(code!.toUpperCase().replace('-', ' '))).toBe(hashRecoveryCode(code!));
    expect(hashRecoveryCode(code!)).not.toContain(code!.replace('-', ''));
    expect(looksLikeRecoveryCode('123456')).toBe(false);
  });
});
