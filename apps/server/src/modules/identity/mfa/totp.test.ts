import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';

describe('TOTP', () => {
  it('accepts the current code once and refuses a replay of its step', async () => {
    const secret = await newTotpSecret();
    const code = await generate({ secret });
    const step = await checkTotp(secret, code, null);
    expect(step).toBeTypeOf('number');
    expect(await checkTotp(secret, code, step)).toBeNull();
  });

  it('refuses a wrong or malformed code', async () => {
    const secret = await newTotpSecret();
    const code = await generate({ secret });
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect(await checkTotp(secret, wrong, null)).toBeNull();
    expect(await checkTotp(secret, 'abcdef', null)).toBeNull();
    expect(await checkTotp(secret, '', null)).toBeNull();
  });

  it('writes an otpauth URI for authenticator apps', async () => {
    const uri = await totpUri('JBSWY3DPEHPK3PXP', 'ann@example.com');
    expect(uri).toMatch(/^otpauth:\/\/totp\/maas:ann%40example\.com\?/);
    expect(uri).toContain('secret=JBSWY3DPEHPK3PXP');
  });
});
