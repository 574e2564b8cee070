import { describe, expect, it } from 'vitest';
import { createLoginThrottle } from './login-throttle.ts';

const options = { failuresPerAccount: 3, failuresPerAddress: 5, lockoutBaseS: 10, lockoutMaxS: 25 };

describe('login throttle', () => {
  it('locks an account at the limit, for whatever case the email is typed in', async () => {
    const t = createLoginThrottle(options);
    expect(await t.recordFailure('Ada@Example.com', '10.0.0.1')).toEqual([]);
    expect(await t.recordFailure('ada@example.com', '10.0.0.2')).toEqual([]);
    expect(await t.recordFailure('ada@example.com', '10.0.0.3')).toEqual([
      { scope: 'account', retryAfterS: 10, count: 1 },
    ]);
    await expect(t.check('ADA@example.com', '10.0.0.9')).rejects.toMatchObject({
      status: 429,
      headers: { 'retry-after': '10' },
    });
    await expect(t.check('bob@example.com', '10.0.0.9')).resolves.toBeUndefined();
  });

  it('locks an address that fails across many accounts', async () => {
    const t = createLoginThrottle(options);
    for (let i = 0; i < 4; i++) await t.recordFailure(`u${i}@example.com`, '10.0.0.1');
    const locks = await t.recordFailure('u9@example.com', '10.0.0.1');
    expect(locks).toEqual([{ scope: 'address', retryAfterS: 10, count: 1 }]);
    await expect(t.check('someone@example.com', '10.0.0.1')).rejects.toMatchObject({ status: 429 });
    await expect(t.check('someone@example.com', '10.0.0.2')).resolves.toBeUndefined();
  });

  it('a success clears the account’s failures', async () => {
    const t = createLoginThrottle(options);
    await t.recordFailure('ada@example.com', '10.0.0.1');
    await t.recordFailure('ada@example.com', '10.0.0.1');
    await t.recordSuccess('ada@example.com');
    expect(await t.recordFailure('ada@example.com', '10.0.0.1')).toEqual([]);
  });
});
