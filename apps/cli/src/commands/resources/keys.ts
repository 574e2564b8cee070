import type { ApiResponse } from '@maas/contracts';
import type { Command, OptionValues } from 'commander';
import type { ApiClient } from '../../lib/api-client.ts';
import { CliError, EXIT, usageError } from '../../lib/errors.ts';
import { paintStatus } from '../../lib/output.ts';
import { refs, resolveId } from '../../lib/resolve.ts';
import { registerResource } from '../../lib/resource.ts';
import { collect, examples, parseDuration, parseTime, type Runtime, runtimeOf } from '../../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

/** The project for a new key: --project, else the only project, else the one named `default`. */
export async function projectFor(api: ApiClient, ref: string | undefined): Promise<string> {
  if (ref) return resolveId(api, refs.project, ref);
  const projects = await api.list(refs.project.path);
  if (projects.length === 1) return projects[0]!.id;
  const fallback = projects.find((p) => p.name === 'default');
  if (fallback) return fallback.id;
  throw usageError('which project? give --project <id or name>');
}

function metadataOf(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`--metadata wants key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function expiry(opts: Opts): string | null | undefined {
  if (opts.expiresIn) return new Date(Date.now() + parseDuration(opts.expiresIn)).toISOString();
  if (opts.expiresAt === 'never') return null;
  if (opts.expiresAt) return parseTime(opts.expiresAt);
  return undefined;
}

/** Prints a new secret once: `-q` prints only the secret, `--save` keeps it for `maas chat`. */
function showSecret(row: ApiResponse<'/api/v1/keys', 'post'>, opts: Opts, rt: Runtime): void {
  if (opts.save) {
    const active = rt.active();
    if (!active.name) throw new CliError('--save needs a saved context (maas login)', EXIT.usage, 'usage');
    const name = active.name;
    rt.store.update((c) => {
      const ctx = c.contexts[name];
      if (ctx) ctx.inference_key = row.key;
    });
  }
  if (opts.quiet) {
    rt.out.line(row.key);
    return;
  }
  rt.out.print(row, () => {
    rt.out.fields([
      ['id', row.id],
      ['name', row.name],
      ['project', row.project_id],
      ['scopes', row.scopes],
      ['models', row.models ?? 'all'],
      ['expires', row.expires_at ?? 'never'],
    ]);
    rt.out.line();
    rt.out.line(`${rt.out.c.bold('secret:')} ${rt.out.c.green(row.key)}`);
    rt.out.line();
  });
  if (rt.out.human) rt.out.warn('this is the only time the secret is shown: store it now');
  if (opts.save) rt.out.note(`saved in context ${rt.active().name} for \`maas chat\``);
}

const secretOptions = (cmd: Command) =>
  cmd
    .option('-q, --quiet', 'print only the secret (for scripts)')
    .option('--save', 'also keep the secret in the current context for `maas chat`');

export function registerKeyResource(program: Command): void {
  const group = registerResource(program, {
    ref: refs.key,
    command: 'keys',
    aliases: ['key'],
    description: 'API keys for the gateway (/v1) and the admin API; the secret is shown once',
    deleteVerb: 'revoke',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'prefix', value: (r) => r.prefix },
      { header: 'project', value: (r) => r.project_id },
      { header: 'scopes', value: (r) => r.scopes },
      { header: 'status', value: (r) => r.status, paint: (t, _r, c) => paintStatus(t, c) },
      { header: 'expires', value: (r) => r.expires_at },
    ],
    list: {
      options: (cmd) => cmd.option('--project <project>', 'only the keys of this project (id or name)'),
      query: async (opts, rt) => ({
        project_id: opts.project ? await resolveId(rt.api(), refs.project, opts.project) : undefined,
      }),
    },
    create: {
      args: ['<name>'],
      options: (cmd) =>
        secretOptions(
          cmd
            .option('--project <project>', 'project id or name (default: the only one, or "default")')
            .option(
              '--scope <scope>',
              'inference, admin:read or admin:write (repeatable; default inference)',
              collect,
            )
            .option('--model <model>', 'allow only this model (repeatable; default all)', collect)
            .option('--expires-in <duration>', 'e.g. 30d, 12h')
            .option('--expires-at <time>', 'ISO 8601 time, or "never"')
            .option('--metadata <key=value>', 'a label (repeatable)', collect),
        ),
      body: async ([name], opts, rt) => ({
        name,
        project_id: await projectFor(rt.api(), opts.project),
        scopes: opts.scope,
        models: opts.model,
        expires_at: expiry(opts),
        metadata: metadataOf(opts.metadata),
      }),
      after: showSecret,
    },
    update: {
      options: (cmd) =>
        cmd
          .option('--name <name>', 'new name')
          .option('--model <model>', 'allow only these models (repeatable)', collect)
          .option('--all-models', 'allow every model again')
          .option('--expires-in <duration>', 'e.g. 30d')
          .option('--expires-at <time>', 'ISO 8601 time, or "never"')
          .option('--metadata <key=value>', 'replace the labels (repeatable)', collect),
      body: (opts) => ({
        name: opts.name,
        models: opts.allModels ? null : opts.model,
        expires_at: expiry(opts),
        metadata: metadataOf(opts.metadata),
      }),
    },
    examples: {
      ls: ['maas keys ls', 'maas keys ls --project search-app -o json'],
      get: ['maas keys get ci-bot'],
      create: [
        'maas keys create ci-bot --project search-app --expires-in 90d',
        'export OPENAI_API_KEY=$(maas keys create laptop -q)',
        'maas keys create chat --save            # and use it for `maas chat`',
        'maas keys create admin-bot --scope admin:read --scope admin:write',
      ],
      update: [
        'maas keys update ci-bot --model chat-small --model embed-small',
        'maas keys update ci-bot --expires-at never',
      ],
      delete: ['maas keys delete ci-bot --yes      # revokes it at once'],
    },
  });

  examples(
    secretOptions(
      group
        .command('rotate')
        .description('issue a new secret; the old one keeps working for the grace period')
        .argument('<ref>', 'key id or name')
        .option('--grace <duration>', 'how long the old secret keeps working (e.g. 1h; default 0)'),
    ),
    ['maas keys rotate ci-bot --grace 24h', 'NEW=$(maas keys rotate ci-bot -q)'],
  ).action(async (ref: string, opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const id = await resolveId(rt.api(), refs.key, ref);
    const body = opts.grace ? { grace_period_seconds: Math.round(parseDuration(opts.grace) / 1000) } : {};
    showSecret(
      await rt.api().request('POST', '/api/v1/keys/{id}/rotate', { params: { id }, body }),
      opts,
      rt,
    );
  });
}
