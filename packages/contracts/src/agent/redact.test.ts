import { describe, expect, it } from 'vitest';
import { redactLine, secretsOf } from './redact.ts';

describe('log redaction', () => {
  it('blanks out known secret shapes', () => {
    const hex = 'a'.repeat(64);
    const cases: [string, string][] = [
      ['key sk-maas-AbCdEf0123456789xyz used', 'key sk-maas-[redacted] used'],
      ['OPENAI sk-proj-abcdefghijkl0123', 'OPENAI sk-[redacted]'],
      ['Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.abc', 'Authorization: Bearer [redacted]'],
      ['id AKIAIOSFODNN7EXAMPLE ok', 'id [redacted-aws-key] ok'],
      [
        'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        'aws_secret_access_key = [redacted]',
      ],
      ['db postgres://maas:hunter22@db:5432/maas', 'db postgres://maas:[redacted]@db:5432/maas'],
      ['redis://:pw123456@cache:6379', 'redis://:[redacted]@cache:6379'],
      [`secret ${hex}`, 'secret [redacted-hex]'],
      ['MAAS_ADMIN_PASSWORD=correct-horse', 'MAAS_ADMIN_PASSWORD=[redacted]'],
      ['HF_TOKEN="hf_abc123"', 'HF_TOKEN=[redacted]'],
    ];
    for (const [line, want] of cases) expect(redactLine(line)).toBe(want);
  });

  it('leaves ordinary lines alone', () => {
    for (const line of [
      '2026-01-01T00:00:00Z listening on http://127.0.0.1:40001 (model tiny, ctx 2048)',
      'Bearer tokens are required; Basic configuration loaded',
    ]) {
      expect(redactLine(line)).toBe(line);
    }
    expect(redactLine('Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==')).toBe(
      'Authorization: Basic [redacted]',
    );
  });

  it("blanks out the replica's own credential and env values", () => {
    const spec = {
      id: 'rep_1',
      api_key: 'rk-0123456789abcdef',
      env: { TOKENISH: 'my-deploy-value', X: '1' },
    };
    const secrets = secretsOf(spec);
    expect(secrets).toEqual(['rk-0123456789abcdef', 'my-deploy-value']);
    expect(redactLine('auth rk-0123456789abcdef and my-deploy-value; x=1', secrets)).toBe(
      'auth [redacted] and [redacted]; x=1',
    );
  });
});
