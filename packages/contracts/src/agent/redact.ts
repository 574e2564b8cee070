/**
 * Secret shapes blanked out of runtime log lines before they leave the node (log tail sent to the
 * server, replica logs the API returns). Keeps a short prefix so a reader still sees what it was.
 */
const SHAPES: [RegExp, (m: string, ...groups: string[]) => string][] = [
  // maas and OpenAI-style keys: sk-…, sk-maas-…, sk-proj-…
  [/\bsk-[A-Za-z0-9_-]{8,}/g, (m) => `${m.startsWith('sk-maas-') ? 'sk-maas-' : 'sk-'}[redacted]`],
  // Authorization headers and bearer tokens
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/gi, () => 'Bearer [redacted]'],
  [/\bBasic\s+[A-Za-z0-9+/]{16,}={0,2}/g, () => 'Basic [redacted]'],
  // AWS access key ids and secret keys written as key=value
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, () => '[redacted-aws-key]'],
  [
    /\b(aws_secret_access_key|aws_session_token)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}/gi,
    (_m, k, sep) => `${k}${sep}[redacted]`,
  ],
  // credentials in URLs: postgres://user:pass@host, redis://:pass@host, https://u:p@…
  [
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s@/]+)@/gi,
    (_m, scheme, user) => `${scheme}${user}:[redacted]@`,
  ],
  // 64-hex keys (MAAS_SECRET_KEY and the like)
  [/\b[0-9a-fA-F]{64}\b/g, () => '[redacted-hex]'],
  // name=value of variables whose names say secret
  [
    /\b([A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE_KEY)[A-Z0-9_]*)=("[^"]*"|'[^']*'|\S+)/g,
    (_m, k) => `${k}=[redacted]`,
  ],
];

/** The line with known secret shapes and each of `exact` (values known to be secret) blanked out. */
export function redactLine(line: string, exact: readonly string[] = []): string {
  let out = line;
  for (const value of exact) {
    if (value.length >= 6 && out.includes(value)) out = out.split(value).join('[redacted]');
  }
  for (const [re, replace] of SHAPES) out = out.replace(re, replace as (m: string) => string);
  return out;
}

/** The values of a replica spec that are secret: its credential and its env values. */
export function secretsOf(spec: { env?: Record<string, string>; [k: string]: unknown }): string[] {
  const out = Object.values(spec.env ?? {});
  for (const [k, v] of Object.entries(spec)) {
    if (typeof v === 'string' && /key|token|secret|credential|password/i.test(k)) out.push(v);
  }
  return out.filter((v) => v.length >= 6).sort((a, b) => b.length - a.length);
}
