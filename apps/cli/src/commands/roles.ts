import type { ApiItem } from '@maas/contracts';
import type { Command, OptionValues } from 'commander';
import type { ResponseOf } from '../lib/api-client.ts';
import { usageError } from '../lib/errors.ts';
import { refSpec, refs, resolveId } from '../lib/resolve.ts';
import { registerResource } from '../lib/resource.ts';
import { examples, type Runtime, runtimeOf } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

type Permission = ApiItem<'/api/v1/permissions'>;
type Source = ResponseOf<'/api/v1/users/{id}/permissions'>['permissions'][number]['sources'][number];

/** Built-in roles are named by their name (`viewer`); custom ones by `rol_…` or their name. */
const roleRef = refSpec({ singular: 'role', path: '/api/v1/roles', idPrefix: 'rol', names: (r) => [r.name] });
const BUILT_IN = ['owner', 'admin', 'operator', 'viewer'];

/** `keys:read,keys:write` (or repeated) → a list of permission names. */
const permissionsOf = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean),
];

async function roleIdOf(rt: Runtime, ref: string): Promise<string> {
  return BUILT_IN.includes(ref) ? ref : resolveId(rt.api(), roleRef, ref);
}

const sourceText = (s: Source) => (s.kind === 'org_role' ? `org: ${s.role}` : `${s.project_id}: ${s.role}`);

/** `maas roles …` and the role commands of `maas members`. */
export function registerRoleCommands(program: Command): void {
  const group = registerResource(program, {
    ref: roleRef,
    command: 'roles',
    aliases: ['role'],
    description: 'roles of the current org: the built-in templates and custom roles made of permissions',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'kind', value: (r) => (r.built_in ? 'built-in' : 'custom') },
      { header: 'permissions', value: (r) => r.permissions.length },
      { header: 'description', value: (r) => r.description },
    ],
    create: {
      args: ['<name>'],
      options: (cmd) =>
        cmd
          .requiredOption(
            '--permissions <list>',
            'permission names, comma-separated: keys:read,keys:write (see maas roles permissions)',
            permissionsOf,
          )
          .option('--description <text>', 'what the role is for'),
      body: ([name], opts) => ({ name, permissions: opts.permissions, description: opts.description }),
    },
    update: {
      options: (cmd) =>
        cmd
          .option('--name <name>', 'new name')
          .option('--permissions <list>', 'replace the permissions (comma-separated)', permissionsOf)
          .option('--description <text>', 'a note for people ("" clears it)'),
      body: (opts) => ({
        name: opts.name,
        permissions: opts.permissions,
        description: opts.description === '' ? null : opts.description,
      }),
    },
    examples: {
      ls: ['maas roles ls', 'maas roles ls -o json'],
      get: ['maas roles get operator', 'maas roles get "key manager"'],
      create: ['maas roles create "key manager" --permissions keys:read,keys:write,projects:read'],
      update: ['maas roles update "key manager" --permissions keys:read,keys:write,usage:read'],
      delete: ['maas roles rm "key manager" --yes'],
    },
  });

  examples(group.command('permissions').description('the permission catalogue roles are made of'), [
    'maas roles permissions',
    'maas roles permissions -o json',
  ]).action(async (_opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const { data } = await rt.api().request('GET', '/api/v1/permissions');
    rt.out.print(data, () =>
      rt.out.table(data, [
        { header: 'permission', value: (p: Permission) => p.name },
        { header: 'area', value: (p: Permission) => p.area },
        { header: 'from', value: (p: Permission) => p.level },
        { header: 'description', value: (p: Permission) => p.description },
      ]),
    );
  });

  const members = program.commands.find((c) => c.name() === 'members');
  if (!members) throw new Error('maas members must be registered before the role commands');

  examples(
    members
      .command('role')
      .description("set a member's role in the org, or in one project with --project")
      .argument('<member>', 'member email, user id or membership id')
      .argument('[role]', 'a built-in role (owner, admin, operator, viewer) or a custom role name or id')
      .option('--project <project>', 'the role applies in this project only (id or name)')
      .option('--remove', 'with --project: take the project role away'),
    [
      'maas members role ada@example.com operator',
      'maas members role ada@example.com "key manager"',
      'maas members role ada@example.com operator --project search-app',
      'maas members role ada@example.com --project search-app --remove',
    ],
  ).action(async (memberRef: string, roleRef_: string | undefined, opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const api = rt.api();
    if (opts.remove && !opts.project) throw usageError('--remove takes a project role away: give --project');
    if (!opts.remove && !roleRef_) throw usageError('give a role (or --project … --remove)');
    const membershipId = await resolveId(api, refs.member, memberRef);
    if (opts.project) {
      const projectId = await resolveId(api, refs.project, opts.project);
      const { user_id } = await api.request('GET', '/api/v1/memberships/{id}', {
        params: { id: membershipId },
      });
      const path = '/api/v1/projects/{id}/members/{user_id}';
      const params = { id: projectId, user_id };
      if (opts.remove) {
        await api.request('DELETE', path, { params });
        rt.out.print({ user_id, project_id: projectId, removed: true }, () =>
          rt.out.line(`Removed the role of ${memberRef} in project ${projectId}`),
        );
        return;
      }
      const row = await api.request('PUT', path, { params, body: { role: await roleIdOf(rt, roleRef_!) } });
      rt.out.print(row, () => rt.out.line(`${memberRef} is ${row.role.name} in project ${projectId}`));
      return;
    }
    const roleId = await roleIdOf(rt, roleRef_!);
    const body = BUILT_IN.includes(roleId) ? { role: roleId } : { role_id: roleId };
    const row = await api.request('PATCH', '/api/v1/memberships/{id}', {
      params: { id: membershipId },
      body,
    });
    rt.out.print(row, () => rt.out.line(`${memberRef} is ${row.custom_role?.name ?? row.role} in the org`));
  });

  examples(
    members
      .command('permissions')
      .description(
        "a member's effective permissions: the org role and project roles, with where each comes from",
      )
      .argument('<member>', 'member email, user id or membership id'),
    ['maas members permissions ada@example.com', 'maas members permissions ada@example.com -o json'],
  ).action(async (memberRef: string, _opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const api = rt.api();
    const membershipId = await resolveId(api, refs.member, memberRef);
    const { user_id } = await api.request('GET', '/api/v1/memberships/{id}', {
      params: { id: membershipId },
    });
    const e = await api.request('GET', '/api/v1/users/{id}/permissions', { params: { id: user_id } });
    rt.out.print(e, () => {
      rt.out.line(`org role: ${rt.out.c.bold(e.org_role.name)}`);
      rt.out.table(e.permissions, [
        { header: 'permission', value: (p) => p.name },
        { header: 'from', value: (p) => p.sources.map(sourceText).join(', ') },
      ]);
    });
  });
}
