import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ResponseOf, send } from './api-client.ts';
import { CliError, EXIT, errorFromResponse } from './errors.ts';

export type SsoTokens = ResponseOf<'/api/v1/auth/sso/token', 'POST'>;

const PAGE = (text: string) =>
  `<!doctype html><meta charset="utf-8"><title>maas</title><body style="font-family:sans-serif;padding:48px"><h2>${text}</h2></body>`;

async function chooseProvider(server: string, wanted: string | true): Promise<string> {
  if (wanted !== true) return wanted;
  const res = await send(server, 'GET', '/api/v1/auth/sso/providers');
  if (res.status !== 200) throw errorFromResponse(res.status, res.body);
  const slugs = (res.body as ResponseOf<'/api/v1/auth/sso/providers'>).data.map((p) => p.slug);
  if (slugs.length === 1) return slugs[0]!;
  throw new CliError(
    slugs.length === 0
      ? 'this server has no identity provider: log in with email and password'
      : `several identity providers: give one, --sso <${slugs.join('|')}>`,
    EXIT.usage,
    'usage',
  );
}

/**
 * `maas login --sso`: the browser signs in at the provider and is sent back to a one-shot listener
 * on 127.0.0.1 with a one-time code; only this process's PKCE verifier turns it into tokens.
 */
export async function ssoLogin(
  server: string,
  provider: string | true,
  note: (text: string) => void,
  timeoutMs = 300_000,
): Promise<SsoTokens> {
  const slug = await chooseProvider(server, provider);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  let settle: (result: { code?: string; error?: string }) => void = () => {};
  const answered = new Promise<{ code?: string; error?: string }>((resolve) => {
    settle = resolve;
  });
  const listener = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const code = url.searchParams.get('code') ?? undefined;
    const error = url.searchParams.get('sso_error') ?? (code ? undefined : 'no_code');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(PAGE(code ? 'Signed in to maas: you can close this tab.' : `Sign-in refused (${error}).`));
    settle({ code, error });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;
  const start = new URL(`/api/v1/auth/sso/${encodeURIComponent(slug)}/start`, server);
  start.searchParams.set('cli_redirect', `http://127.0.0.1:${port}/callback`);
  start.searchParams.set('cli_challenge', challenge);
  note(
    `Open this URL in your browser to sign in with ${slug}:\n\n  ${start.href}\n\nWaiting for the browser…`,
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CliError('no sign-in arrived in time: run `maas login --sso` again', EXIT.auth, 'timeout'),
        ),
      timeoutMs,
    );
  });
  try {
    const result = await Promise.race([answered, timedOut]);
    if (!result.code) throw new CliError(`single sign-on refused: ${result.error}`, EXIT.auth, 'sso_refused');
    const res = await send(server, 'POST', '/api/v1/auth/sso/token', {
      body: { code: result.code, code_verifier: verifier },
    });
    if (res.status !== 200) throw errorFromResponse(res.status, res.body);
    return res.body as SsoTokens;
  } finally {
    clearTimeout(timer);
    listener.closeAllConnections();
    listener.close();
  }
}
