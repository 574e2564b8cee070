import type { ApiItem } from '@maas/contracts';
import type { Command } from 'commander';
import { usageError } from '../lib/errors.ts';
import { examples, parseInteger, readStdin, runtimeOf } from '../lib/runtime.ts';

type SentInvitation = ApiItem<'/api/v1/invitations'>;

const ROLES = ['owner', 'admin', 'operator', 'viewer'];

/** The org's side of invitations: send, list, resend, withdraw; self-registration; the platform's SMTP. */
export function registerOrgInvitationCommands(inv: Command): void {
  examples(inv.command('sent').description('pending invitations your org sent, with their mail status'), [
    'maas invitations sent',
  ]).action(async (_opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const data = await rt.api().list('/api/v1/invitations');
    rt.out.print(data, () =>
      rt.out.table(data, [
        { header: 'id', value: (r: SentInvitation) => r.id },
        { header: 'email', value: (r: SentInvitation) => r.email },
        { header: 'role', value: (r: SentInvitation) => r.role },
        { header: 'mail', value: (r: SentInvitation) => r.mail_status ?? 'not mailed' },
        { header: 'expires', value: (r: SentInvitation) => r.expires_at },
      ]),
    );
  });

  examples(
    inv
      .command('send <email>')
      .description('invite an address to your org (its link is mailed when the platform has mail set up)')
      .option('--role <role>', `one of ${ROLES.join(', ')}`, 'viewer'),
    ['maas invitations send bob@example.com --role operator'],
  ).action(async (email: string, opts: { role: string }, cmd: Command) => {
    if (!ROLES.includes(opts.role)) throw usageError(`--role must be one of ${ROLES.join(', ')}`);
    const rt = runtimeOf(cmd);
    const row = await rt.api().request('POST', '/api/v1/invitations', { body: { email, role: opts.role } });
    rt.out.print(row, () =>
      rt.out.line(
        `${row.id}: invited ${row.email} as ${row.role} (mail: ${row.mail_status ?? 'not set up'})`,
      ),
    );
  });

  examples(inv.command('resend <id>').description('mail a new link (the previous one stops working)'), [
    'maas invitations resend inv_01…',
  ]).action(async (id: string, _opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const row = await rt
      .api()
      .request('POST', '/api/v1/invitations/{id}/resend', { params: { id }, body: {} });
    rt.out.print(row, () =>
      rt.out.line(`${row.id}: mailed again to ${row.email}, expires ${row.expires_at}`),
    );
  });

  examples(inv.command('revoke <id>').description('withdraw a pending invitation (its link stops working)'), [
    'maas invitations revoke inv_01…',
  ]).action(async (id: string, _opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    await rt.api().request('DELETE', '/api/v1/invitations/{id}', { params: { id } });
    rt.out.line(`${id}: revoked`);
  });

  examples(
    inv
      .command('registration')
      .description('self-registration to your org: show it, open it to email domains, or close it')
      .option('--open <domains>', 'comma-separated domains whose addresses may sign up (as viewers)')
      .option('--close', 'take no sign-ups'),
    [
      'maas invitations registration',
      'maas invitations registration --open example.com,example.org',
      'maas invitations registration --close',
    ],
  ).action(async (opts: { open?: string; close?: boolean }, cmd: Command) => {
    if (opts.open && opts.close) throw usageError('give --open or --close, not both');
    const rt = runtimeOf(cmd);
    const api = rt.api();
    const row =
      opts.open || opts.close
        ? await api.request('PUT', '/api/v1/org-registration', {
            body: {
              enabled: Boolean(opts.open),
              domains: (opts.open ?? '')
                .split(',')
                .map((d) => d.trim())
                .filter(Boolean),
            },
          })
        : await api.request('GET', '/api/v1/org-registration');
    rt.out.print(row, () =>
      rt.out.line(row.enabled ? `open to: ${row.domains.join(', ')}` : 'closed: no self-registration'),
    );
  });

  const smtp = examples(inv.command('smtp').description('the platform’s SMTP settings (platform admins)'), [
    'maas invitations smtp show',
  ]);
  examples(smtp.command('show').description('the SMTP settings (the password is never shown)'), [
    'maas invitations smtp show -o json',
  ]).action(async (_opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const row = await rt.api().request('GET', '/api/v1/mail-settings');
    rt.out.print(row, () =>
      rt.out.line(
        `${row.security} ${row.host}:${row.port} as ${row.username ?? '(no login)'}${row.has_password ? ' (password set)' : ''}, from ${row.from_address}, links to ${row.public_url}`,
      ),
    );
  });
  examples(
    smtp
      .command('set')
      .description('set the SMTP server and the public URL links in mail point to')
      .requiredOption('--host <host>', 'SMTP server')
      .requiredOption('--port <port>', 'SMTP port (465 tls, 587 starttls, 25)')
      .option('--security <mode>', 'tls, starttls or none', 'starttls')
      .option('--username <user>', 'login name')
      .option('--password-stdin', 'read the SMTP password from standard input (else the stored one is kept)')
      .requiredOption('--from <address>', 'From header, e.g. "maas <noreply@example.com>"')
      .requiredOption('--public-url <url>', 'where the console is reached, e.g. https://maas.example.com'),
    [
      'echo "$SMTP_PASSWORD" | maas invitations smtp set --host smtp.example.com --port 587 --username maas --password-stdin --from noreply@example.com --public-url https://maas.example.com',
    ],
  ).action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
    const rt = runtimeOf(cmd);
    // without --password-stdin the stored password is kept
    const password = opts.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
    const row = await rt.api().request('PUT', '/api/v1/mail-settings', {
      body: {
        host: opts.host,
        port: parseInteger(String(opts.port)),
        security: opts.security,
        username: opts.username ?? null,
        ...(password ? { password } : {}),
        from_address: opts.from,
        public_url: opts.publicUrl,
      },
    });
    rt.out.print(row, () => rt.out.line(`mail set: ${row.host}:${row.port}, links to ${row.public_url}`));
  });
  examples(smtp.command('test <to>').description('send a test mail now'), [
    'maas invitations smtp test ops@example.com',
  ]).action(async (to: string, _opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    await rt.api().request('POST', '/api/v1/mail-settings/test', { body: { to } });
    rt.out.line(`test mail sent to ${to}`);
  });
}
