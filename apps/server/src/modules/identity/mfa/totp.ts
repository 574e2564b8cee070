/** otplib is loaded by the first MFA enrolment or code, not at start */
const otp = () => import('otplib');

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30 s. */
const PERIOD_S = 30;
/** one step either side: a phone's clock may be off by up to 30 s */
const TOLERANCE_S = PERIOD_S;

export async function newTotpSecret(): Promise<string> {
  return (await otp()).generateSecret({ length: 20 });
}

export async function totpUri(secret: string, account: string, issuer = 'maas'): Promise<string> {
  return (await otp()).generateURI({ issuer, label: account, secret, period: PERIOD_S, digits: 6 });
}

/**
 * The time step a code belongs to, or null when it is wrong. A step at or before `afterStep` (the
 * last one accepted) is refused, so an observed code cannot be replayed within its window.
 */
export async function checkTotp(
  secret: string,
  code: string,
  afterStep: number | null,
): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const { verify } = await otp();
  try {
    const result = await verify({
      secret,
      token: code,
      epochTolerance: TOLERANCE_S,
      ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null;
  }
}
