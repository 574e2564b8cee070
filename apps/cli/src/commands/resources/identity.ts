import type { Command } from 'commander';
import { usageError } from '../../lib/errors.ts';
import { paintStatus } from '../../lib/output.ts';
import { ask } from '../../lib/prompt.ts';
import { refs } from '../../lib/resolve.ts';
import { registerResource } from '../../lib/resource.ts';
import { readStdin } from '../../lib/runtime.ts';

const ROLES = 'owner, admin, operator or viewer';

function role(value: string): string {
  if (!['owner', 'admin', 'operator', 'viewer'].includes(value)) throw usageError(`role must be ${ROLES}`);
  return value;
}

async function passwordFrom(opts: { password?: string; passwordStdin?: boolean }, required: boolean) {
  if (opts.passwordStdin) return (await readStdin()).replace(/\r?\n$/, '');
  if (opts.password !== undefined) return opts.password;
  if (!required) return undefined;
  return ask('Password for the new user: ', {
    hidden: true,
    missing: 'give --password-stdin (or --password)',
  });
}

/** orgs, projects, users and members (memberships). */
export function registerIdentityResources(program: Command): void {
  registerResource(program, {
    ref: refs.org,
    command: 'orgs',
    aliases: ['org'],
    description: 'organisations (tenants) you belong to',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'slug', value: (r) => r.slug },
      { header: 'created', value: (r) => r.created_at },
    ],
    create: {
      args: ['<name>'],
      options: (cmd) => cmd.option('--slug <slug>', 'URL-safe short name (default: from the name)'),
      body: ([name], opts) => ({ name, slug: opts.slug }),
    },
    update: {
      options: (cmd) => cmd.option('--name <name>', 'new name'),
      body: (opts) => ({ name: opts.name }),
    },
    examples: {
      ls: ['maas orgs ls', 'maas orgs ls -o json'],
      get: ['maas orgs get default', 'maas orgs get org_01j…'],
      create: ['maas orgs create "Research Lab" --slug research'],
      update: ['maas orgs update research --name "Research"'],
      delete: ['maas orgs delete research --yes'],
    },
  });

  registerResource(program, {
    ref: refs.project,
    command: 'projects',
    aliases: ['project'],
    description: 'projects of the current org; API keys belong to a project',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'description', value: (r) => r.description },
      { header: 'created', value: (r) => r.created_at },
    ],
    create: {
      args: ['<name>'],
      options: (cmd) => cmd.option('--description <text>', 'what the project is for'),
      body: ([name], opts) => ({ name, description: opts.description }),
    },
    update: {
      options: (cmd) =>
        cmd.option('--name <name>', 'new name').option('--description <text>', 'new description'),
      body: (opts) => ({ name: opts.name, description: opts.description }),
    },
    examples: {
      ls: ['maas projects ls'],
      get: ['maas projects get search-app'],
      create: ['maas projects create search-app --description "the search team"'],
      update: ['maas projects update search-app --description "search and ranking"'],
      delete: ['maas projects delete search-app --yes'],
    },
  });

  registerResource(program, {
    ref: refs.user,
    command: 'users',
    aliases: ['user'],
    description: 'user accounts of the current org',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'email', value: (r) => r.email },
      { header: 'name', value: (r) => r.name },
      { header: 'role', value: (r) => r.role },
      { header: 'disabled', value: (r) => (r.disabled ? 'yes' : 'no') },
    ],
    create: {
      args: ['<email>'],
      options: (cmd) =>
        cmd
          .option('--name <name>', 'display name')
          .option('--role <role>', `role in the current org: ${ROLES}`, role)
          .option('--password <password>', 'initial password (prefer --password-stdin)')
          .option('--password-stdin', 'read the initial password from standard input'),
      body: async ([email], opts) => ({
        email,
        name: opts.name,
        role: opts.role,
        password: await passwordFrom(opts, true),
      }),
    },
    update: {
      options: (cmd) =>
        cmd
          .option('--name <name>', 'display name')
          .option('--password <password>', 'your new password (prefer --password-stdin)')
          .option('--password-stdin', 'read your new password from standard input')
          .option('--current-password <password>', 'your current password (asked for when not given)'),
      body: async (opts) => {
        const password = await passwordFrom(opts, false);
        const current =
          password === undefined
            ? undefined
            : (opts.currentPassword ??
              (await ask('Current password: ', { hidden: true, missing: 'give --current-password' })));
        return { name: opts.name, password, current_password: current };
      },
    },
    examples: {
      ls: ['maas users ls'],
      get: ['maas users get ada@example.com'],
      create: ['echo "$PW" | maas users create ada@example.com --name Ada --role operator --password-stdin'],
      update: ['maas users update ada@example.com --name "Ada L."'],
      delete: ['maas users delete ada@example.com --yes'],
    },
  });

  registerResource(program, {
    ref: refs.member,
    command: 'members',
    aliases: ['member'],
    description: 'who belongs to the current org, with which role',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'email', value: (r) => r.email },
      { header: 'user', value: (r) => r.user_id },
      { header: 'role', value: (r) => r.role, paint: (t, _r, c) => paintStatus(t, c) },
      { header: 'since', value: (r) => r.created_at },
    ],
    create: {
      args: ['<email>'],
      options: (cmd) => cmd.requiredOption('--role <role>', ROLES, role),
      // an invitation: the person becomes a member once they accept it
      body: ([email], opts) => ({ email, role: opts.role }),
    },
    update: {
      options: (cmd) => cmd.option('--role <role>', ROLES, role),
      body: (opts) => ({ role: opts.role }),
    },
    examples: {
      ls: ['maas members ls'],
      get: ['maas members get ada@example.com'],
      create: ['maas members create ada@example.com --role viewer  # invites; a member once accepted'],
      update: ['maas members update ada@example.com --role admin'],
      delete: ['maas members delete ada@example.com --yes'],
    },
  });
}
