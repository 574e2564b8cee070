import type { ApiItem } from '@maas/contracts';
import type { Command } from 'commander';
import { examples, runtimeOf } from '../lib/runtime.ts';
import { registerOrgInvitationCommands } from './invitations-org.ts';

type Invitation = ApiItem<'/api/v1/me/invitations'>;
type Session = ApiItem<'/api/v1/auth/sessions'>;

/** Invitations addressed to you (accept or decline) and your own signed-in sessions. */
export function registerInvitationCommands(program: Command): void {
  const inv = examples(
    program
      .command('invitations')
      .alias('invitation')
      .description(
        'invitations: to you (ls, accept, decline) and from your org (send, sent, resend, revoke)',
      ),
    [
      'maas invitations ls',
      'maas invitations accept inv_01…',
      'maas invitations send bob@example.com --role operator',
    ],
  );
  examples(inv.command('ls').alias('list').description('pending invitations addressed to your email'), [
    'maas invitations ls',
    'maas invitations ls -o json',
  ]).action(async (_opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const { data } = await rt.api().request('GET', '/api/v1/me/invitations');
    rt.out.print(data, () =>
      rt.out.table(data, [
        { header: 'id', value: (r: Invitation) => r.id },
        { header: 'org', value: (r: Invitation) => r.org_name ?? r.org_id },
        { header: 'role', value: (r: Invitation) => r.role },
        { header: 'expires', value: (r: Invitation) => r.expires_at },
      ]),
    );
  });
  for (const action of ['accept', 'decline'] as const) {
    examples(
      inv
        .command(`${action} <id>`)
        .description(action === 'accept' ? 'join the org that invited you' : 'turn the invitation down'),
      [`maas invitations ${action} inv_01…`],
    ).action(async (id: string, _opts: unknown, cmd: Command) => {
      const rt = runtimeOf(cmd);
      const row = await rt
        .api()
        .request('POST', `/api/v1/me/invitations/{id}/${action}`, { params: { id }, body: {} });
      rt.out.print(row, () => rt.out.line(`${row.id}: ${row.status}`));
    });
  }

  registerOrgInvitationCommands(inv);

  const sessions = examples(
    program.command('sessions').alias('session').description('where you are signed in'),
    ['maas sessions ls', 'maas sessions revoke ses_01…'],
  );
  examples(sessions.command('ls').alias('list').description('your sessions, most recently used first'), [
    'maas sessions ls',
  ]).action(async (_opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const { data } = await rt.api().request('GET', '/api/v1/auth/sessions');
    rt.out.print(data, () =>
      rt.out.table(data, [
        { header: 'id', value: (r: Session) => (r.current ? `${r.id} (this)` : r.id) },
        { header: 'org', value: (r: Session) => r.org_id },
        { header: 'last used', value: (r: Session) => r.last_used_at },
        { header: 'ip', value: (r: Session) => r.ip ?? '' },
        { header: 'client', value: (r: Session) => r.user_agent ?? '' },
      ]),
    );
  });
  examples(sessions.command('revoke <id>').description('end a session: its tokens stop working at once'), [
    'maas sessions revoke ses_01…',
  ]).action(async (id: string, _opts: unknown, cmd: Command) => {
    const rt = runtimeOf(cmd);
    await rt.api().request('DELETE', '/api/v1/auth/sessions/{id}', { params: { id } });
    rt.out.line(`${id}: revoked`);
  });
}
