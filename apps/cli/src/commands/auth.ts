import type { Command } from 'commander';
import { type ResponseOf, send } from '../lib/api-client.ts';
import { type Context, contextNameFor, normalizeServer } from '../lib/config-store.ts';
import { CliError, EXIT, errorFromResponse, usageError } from '../lib/errors.ts';
import { ask } from '../lib/prompt.ts';
import { examples, readStdin, runtimeOf } from '../lib/runtime.ts';
import { ssoLogin } from '../lib/sso-login.ts';

const DEFAULT_SERVER = 'http://127.0.0.1:8080';

interface LoginOptions {
  email?: string;
  password?: string;
  passwordStdin?: boolean;
  apiKey?: string;
  apiKeyStdin?: boolean;
  org?: string;
  mfaCode?: string;
  sso?: string | true;
}

type LoginAnswer = ResponseOf<'/api/v1/auth/login', 'POST'>;
/** A token pair (the CLI asks for the refresh token in the body: `token_delivery: 'body'`). */
type Tokens = ResponseOf<'/api/v1/auth/switch-org', 'POST'>;
type Me = ResponseOf<'/api/v1/me'>;

async function passwordLogin(
  server: string,
  email: string,
  password: string,
  mfaCode: () => Promise<string>,
): Promise<Tokens> {
  const res = await send(server, 'POST', '/api/v1/auth/login', {
    // the CLI keeps its refresh token in its own mode-0600 config: ask for it in the body, not a cookie
    body: { email, password, token_delivery: 'body' },
  });
  if (res.status !== 200) throw errorFromResponse(res.status, res.body);
  const body = res.body as LoginAnswer;
  if (!('mfa_required' in body)) return body;
  if (body.mfa_required === 'enrol')
    throw new CliError(
      'your org requires two-step verification of admins: turn it on in the console (Profile & security), then log in again',
      EXIT.auth,
      'mfa_enrolment_required',
    );
  // a second factor is on: the code of the authenticator app (or a recovery code) finishes the sign-in
  const verified = await send(server, 'POST', '/api/v1/auth/mfa/verify', {
    body: { mfa_token: body.mfa_token, code: (await mfaCode()).trim() },
  });
  if (verified.status !== 200) throw errorFromResponse(verified.status, verified.body);
  return verified.body as Tokens;
}

async function switchOrg(server: string, token: string, orgId: string): Promise<Tokens> {
  const res = await send(server, 'POST', '/api/v1/auth/switch-org', {
    headers: { authorization: `Bearer ${token}` },
    body: { org_id: orgId },
  });
  if (res.status !== 200) throw errorFromResponse(res.status, res.body);
  return res.body as Tokens;
}

async function fetchMe(server: string, token: string): Promise<Me> {
  const res = await send(server, 'GET', '/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw errorFromResponse(res.status, res.body);
  return res.body as Me;
}

/** `--org` may be an id, a slug or a name among the user's memberships. */
function orgIdFrom(me: Me, org: string): string {
  const hit =
    me.memberships.find((m) => m.org_id === org || m.org_name === org) ??
    (me.org.slug === org ? { org_id: me.org.id } : undefined);
  if (!hit) throw new CliError(`you are not a member of an org "${org}"`, EXIT.notFound, 'not_found');
  return hit.org_id;
}

async function login(cmd: Command, serverArg: string | undefined, opts: LoginOptions): Promise<void> {
  const rt = runtimeOf(cmd);
  const config = rt.store.read();
  const named = rt.globals.context;
  const previous = named
    ? config.contexts[named]
    : config.current_context
      ? config.contexts[config.current_context]
      : undefined;
  const server = normalizeServer(serverArg ?? previous?.server ?? process.env.MAAS_SERVER ?? DEFAULT_SERVER);
  const name = named ?? contextNameFor(server);
  const keep = config.contexts[name]?.server === server ? config.contexts[name] : undefined;

  let context: Context;
  let me: Me;
  const apiKey = opts.apiKeyStdin ? (await readStdin()).trim() : opts.apiKey;
  if (opts.sso !== undefined) {
    let tokens: Tokens = await ssoLogin(server, opts.sso, (text) => rt.out.note(text));
    me = await fetchMe(server, tokens.access_token);
    if (opts.org) {
      const orgId = orgIdFrom(me, opts.org);
      if (orgId !== tokens.org_id) {
        tokens = await switchOrg(server, tokens.access_token, orgId);
        me = await fetchMe(server, tokens.access_token);
      }
    }
    context = {
      server,
      ...(me.user ? { email: me.user.email } : {}),
      org_id: me.org.id,
      org_name: me.org.name,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      access_expires_at: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
      ...(keep?.inference_key ? { inference_key: keep.inference_key } : {}),
    };
  } else if (apiKey !== undefined) {
    if (!apiKey) throw usageError('the API key is empty');
    me = await fetchMe(server, apiKey);
    context = { server, api_key: apiKey, org_id: me.org.id, org_name: me.org.name };
  } else {
    const email =
      opts.email ??
      process.env.MAAS_EMAIL ??
      (await ask('Email: ', { missing: 'give --email (or --api-key)' }));
    const password = opts.passwordStdin
      ? (await readStdin()).replace(/\r?\n$/, '')
      : (opts.password ??
        process.env.MAAS_PASSWORD ??
        (await ask('Password: ', { hidden: true, missing: 'give --password-stdin or $MAAS_PASSWORD' })));
    const mfaCode = async () =>
      opts.mfaCode ??
      process.env.MAAS_MFA_CODE ??
      (await ask('Authentication code: ', { missing: 'give --mfa-code or $MAAS_MFA_CODE' }));
    let tokens = await passwordLogin(server, email, password, mfaCode);
    me = await fetchMe(server, tokens.access_token);
    if (opts.org) {
      const orgId = orgIdFrom(me, opts.org);
      if (orgId !== tokens.org_id) {
        // the session moves to the other org: no second password (or second-factor code) needed
        tokens = await switchOrg(server, tokens.access_token, orgId);
        me = await fetchMe(server, tokens.access_token);
      }
    }
    context = {
      server,
      email,
      org_id: me.org.id,
      org_name: me.org.name,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      access_expires_at: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
      ...(keep?.inference_key ? { inference_key: keep.inference_key } : {}),
    };
  }
  rt.store.update((c) => {
    c.contexts[name] = context;
    c.current_context = name;
  });
  const who = me.user?.email ?? `API key ${me.key?.id}`;
  const summary = {
    context: name,
    server,
    kind: me.kind,
    email: me.user?.email ?? null,
    org: me.org,
    role: me.role,
  };
  rt.out.print(summary, () =>
    rt.out.line(
      `Logged in to ${rt.out.c.bold(server)} as ${rt.out.c.bold(who)} in org ${me.org.name} (${me.role ?? 'no role'}); context ${rt.out.c.cyan(name)}`,
    ),
  );
}

async function logout(cmd: Command): Promise<void> {
  const rt = runtimeOf(cmd);
  const active = rt.active();
  if (!active.name) throw usageError('nothing to log out of: the context comes from $MAAS_SERVER');
  if (active.context.access_token) {
    // end the session on the server too; an expired one is already over
    await rt
      .api()
      .raw('POST', '/api/v1/auth/logout', { body: {} })
      .catch(() => undefined);
  }
  const name = active.name;
  rt.store.update((c) => {
    const ctx = c.contexts[name];
    if (ctx) c.contexts[name] = { server: ctx.server };
  });
  rt.out.print({ context: name, logged_out: true }, () => rt.out.line(`Logged out of ${name}`));
}

async function whoami(cmd: Command): Promise<void> {
  const rt = runtimeOf(cmd);
  const active = rt.active();
  const me = await rt.api().request('GET', '/api/v1/me');
  rt.out.print({ context: active.name, server: active.context.server, ...me }, () => {
    rt.out.fields([
      ['context', active.name ?? '(from $MAAS_SERVER)'],
      ['server', active.context.server],
      [me.kind === 'user' ? 'user' : 'key', me.kind === 'user' ? me.user?.email : me.key?.id],
      ['org', `${me.org.name} (${me.org.id})`],
      ['role', me.role],
      ...(me.key
        ? ([
            ['scopes', me.key.scopes],
            ['project', me.key.project_id],
          ] as [string, unknown][])
        : []),
      ...(me.memberships.length > 1
        ? ([['orgs', me.memberships.map((m) => `${m.org_name} (${m.role})`)]] as [string, unknown][])
        : []),
    ]);
  });
}

export function registerAuthCommands(program: Command): void {
  examples(
    program
      .command('login')
      .description('log in to a maas server with email and password, or an API key; saves a context')
      .argument('[server]', `server URL (default: the current context's, $MAAS_SERVER or ${DEFAULT_SERVER})`)
      .option('--email <email>', 'your email ($MAAS_EMAIL; asked when on a terminal)')
      .option(
        '--password <password>',
        'your password (visible to other local users; prefer --password-stdin)',
      )
      .option('--password-stdin', 'read the password from standard input ($MAAS_PASSWORD works too)')
      .option('--api-key <key>', 'log in with an API key instead (admin scopes for the admin API)')
      .option('--api-key-stdin', 'read the API key from standard input')
      .option('--org <org>', 'the org to work in (id or name), when you belong to several')
      .option(
        '--sso [provider]',
        'sign in through an identity provider in your browser (prints the URL; the one provider when only one)',
      )
      .option(
        '--mfa-code <code>',
        'the code of your authenticator app or a recovery code, when two-step verification is on ($MAAS_MFA_CODE; asked when on a terminal)',
      )
      .action(async (server: string | undefined, opts: LoginOptions, cmd: Command) =>
        login(cmd, server, opts),
      ),
    [
      'maas login http://localhost:8080                       # asks for email and password',
      'echo "$PASSWORD" | maas login https://maas.example.com --email me@example.com --password-stdin',
      'maas login https://maas.example.com --api-key-stdin < key.txt --context prod',
      'maas login https://maas.example.com --sso corp-keycloak     # opens nothing: prints the URL to open',
    ],
  );

  examples(
    program
      .command('logout')
      .description('end the session and forget the credentials of the current context')
      .action(async (_opts: unknown, cmd: Command) => logout(cmd)),
    ['maas logout', 'maas logout --context prod'],
  );

  examples(
    program
      .command('whoami')
      .description('show who you are logged in as, in which org and with which role')
      .action(async (_opts: unknown, cmd: Command) => whoami(cmd)),
    ['maas whoami', 'maas whoami -o json | jq -r .org.id'],
  );
}
