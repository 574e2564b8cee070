import type { Command } from 'commander';
import type { Context } from '../lib/config-store.ts';
import { CliError, EXIT } from '../lib/errors.ts';
import { examples, runtimeOf } from '../lib/runtime.ts';

function credentialOf(ctx: Context): string {
  if (ctx.access_token) return `user ${ctx.email ?? ''}`.trim();
  if (ctx.api_key) return 'api key';
  return 'logged out';
}

export function registerContextCommands(program: Command): void {
  const context = examples(
    program.command('context').description('named connections to maas servers (like kubectl contexts)'),
    ['maas context ls', 'maas context use prod', 'maas context rm old-staging'],
  );

  examples(
    context
      .command('ls')
      .alias('list')
      .description('list the saved contexts; * marks the current one')
      .option('--names', 'only the names, one a line (for scripts and completion)')
      .action((opts: { names?: boolean }, cmd: Command) => {
        const rt = runtimeOf(cmd);
        const config = rt.store.read();
        if (opts.names) {
          for (const name of Object.keys(config.contexts)) rt.out.line(name);
          return;
        }
        const rows = Object.entries(config.contexts).map(([name, ctx]) => ({
          current: name === config.current_context,
          name,
          server: ctx.server,
          org: ctx.org_name ?? ctx.org_id ?? null,
          credential: credentialOf(ctx),
          chat_key: Boolean(ctx.inference_key ?? ctx.api_key),
        }));
        rt.out.print(rows, () =>
          rt.out.table(rows, [
            { header: ' ', value: (r) => (r.current ? '*' : ' '), paint: (t, _r, c) => c.green(t) },
            { header: 'name', value: (r) => r.name, paint: (t, r, c) => (r.current ? c.bold(t) : t) },
            { header: 'server', value: (r) => r.server },
            { header: 'org', value: (r) => r.org },
            { header: 'credential', value: (r) => r.credential },
          ]),
        );
      }),
    ['maas context ls', 'maas context ls -o json'],
  );

  examples(
    context
      .command('use')
      .description('make a context the current one')
      .argument('<name>', 'context name')
      .action((name: string, _opts: unknown, cmd: Command) => {
        const rt = runtimeOf(cmd);
        rt.store.update((c) => {
          if (!c.contexts[name])
            throw new CliError(
              `no context named "${name}" (see: maas context ls)`,
              EXIT.notFound,
              'not_found',
            );
          c.current_context = name;
        });
        rt.out.print({ current_context: name }, () =>
          rt.out.line(`Switched to context ${rt.out.c.cyan(name)}`),
        );
      }),
    ['maas context use prod'],
  );

  examples(
    context
      .command('rm')
      .alias('delete')
      .description('forget a context and its credentials')
      .argument('<name>', 'context name')
      .action((name: string, _opts: unknown, cmd: Command) => {
        const rt = runtimeOf(cmd);
        rt.store.update((c) => {
          if (!c.contexts[name])
            throw new CliError(
              `no context named "${name}" (see: maas context ls)`,
              EXIT.notFound,
              'not_found',
            );
          delete c.contexts[name];
          if (c.current_context === name) c.current_context = null;
        });
        rt.out.print({ removed: name }, () => rt.out.line(`Removed context ${name}`));
      }),
    ['maas context rm old-staging'],
  );

  examples(
    context
      .command('current')
      .description('print the name of the current context')
      .action((_opts: unknown, cmd: Command) => {
        const rt = runtimeOf(cmd);
        const current = rt.store.read().current_context;
        if (!current) throw new CliError('no current context: run `maas login`', EXIT.notFound, 'not_found');
        rt.out.print({ current_context: current }, () => rt.out.line(current));
      }),
    ['maas context current'],
  );
}
