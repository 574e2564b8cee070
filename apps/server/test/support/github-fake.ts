import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubAccount {
  id: number;
  login: string;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean }[];
  orgs: string[];
}

/**
 * A GitHub Enterprise Server's OAuth app flow on loopback, as GitHub speaks it: /login/oauth/authorize
 * (the signed-in account approves at once), /login/oauth/access_token (client secret, code, PKCE S256,
 * redirect_uri all checked), and the REST API under /api/v3 (/user, /user/emails, /user/orgs).
 */
export async function startGithubFake(clientId: string, clientSecret: string) {
  const codes = new Map<string, { login: string; redirectUri: string; challenge: string | null }>();
  const tokens = new Map<string, string>();
  const accounts = new Map<string, GithubAccount>();
  let signedIn = '';
  const requests: string[] = [];

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString());
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://github.local');
    requests.push(`${req.method} ${url.pathname}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirect = url.searchParams.get('redirect_uri') ?? '';
      if (url.searchParams.get('client_id') !== clientId || !redirect) return json(400, { error: 'bad' });
      const code = randomBytes(10).toString('hex');
      codes.set(code, {
        login: signedIn,
        redirectUri: redirect,
        challenge: url.searchParams.get('code_challenge'),
      });
      const back = new URL(redirect);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const body = await readBody(req);
      const grant = codes.get(body.get('code') ?? '');
      codes.delete(body.get('code') ?? '');
      const verifier = body.get('code_verifier') ?? '';
      const pkceOk =
        !grant?.challenge || createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
      // GitHub answers a refused exchange with 200 and an error field
      if (
        !grant ||
        !pkceOk ||
        body.get('client_id') !== clientId ||
        body.get('client_secret') !== clientSecret ||
        body.get('redirect_uri') !== grant.redirectUri
      )
        return json(200, { error: 'bad_verification_code' });
      const token = `gho_${randomBytes(16).toString('hex')}`;
      tokens.set(token, grant.login);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email,read:org' });
    }
    const who = tokens.get((req.headers.authorization ?? '').replace(/^(Bearer|token) /, ''));
    const account = who ? accounts.get(who) : undefined;
    if (!account) return json(401, { message: 'Bad credentials' });
    if (url.pathname === '/api/v3/user')
      return json(200, { id: account.id, login: account.login, name: account.name });
    if (url.pathname === '/api/v3/user/emails') return json(200, account.emails);
    if (url.pathname === '/api/v3/user/orgs')
      return json(
        200,
        account.orgs.map((login) => ({ login })),
      );
    return json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    accounts,
    requests,
    /** the account the next authorization approves as */
    signIn(login: string) {
      signedIn = login;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
