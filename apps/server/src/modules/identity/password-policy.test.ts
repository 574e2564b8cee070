import { describe, expect, it } from 'vitest';
import { assertPasswordPolicy, passwordProblem } from './password-policy.ts';

describe('password policy', () => {
  it('accepts a long, uncommon password', () => {
    expect(passwordProblem('correct horse battery', 'ada@example.com')).toBeNull();
  });

  it.each([
    ['short', /at least 12/],
    ['ada@example.com', /email/],
    ['ADA@EXAMPLE.COM', /email/],
    ['Password1234', /common/],
    ['abababababababab', /different characters/],
  ])('refuses %s', (password, why) => {
    expect(passwordProblem(password, 'ada@example.com')).toMatch(why);
  });

  it('throws a 400 naming the field', () => {
    expect(() => assertPasswordPolicy('short', 'ada@example.com')).toThrow(
      expect.objectContaining({ status: 400, param: 'password' }),
    );
  });
});
