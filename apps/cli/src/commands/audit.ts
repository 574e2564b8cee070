import type { Command } from 'commander';
import { CliError, EXIT } from '../lib/errors.ts';
import { examples, parseInteger, parseTime, runtimeOf } from '../lib/runtime.ts';

interface AuditOptions {
  actor?: string;
  action?: string;
  target?: string;
  since?: string;
  from?: string;
  to?: string;
  limit: number;
  all?: boolean;
}

const who = (type: string | null, id: string | null) => (id ? `${type}:${id}` : type);

export function registerAuditCommands(program: Command): void {
  const audit = examples(
    program.command('audit').description('the hash-chained, append-only audit trail of your org'),
    ['maas audit ls --since 24h', 'maas audit verify'],
  );

  examples(
    audit
      .command('ls')
      .alias('list')
      .description('list audit events, newest first')
      .option('--actor <id>', 'only events by this user or key id')
      .option('--action <action>', 'only this action, e.g. key.create')
      .option('--target <id>', 'only events about this resource id')
      .option('--since <duration>', 'from this long ago (e.g. 24h, 7d)')
      .option('--from <time>', 'start (ISO 8601)')
      .option('--to <time>', 'end (ISO 8601)')
      .option('--limit <n>', 'at most this many (default 50)', parseInteger, 50)
      .option('--all', 'every matching event, following pages')
      .action(async (opts: AuditOptions, cmd: Command) => {
        const rt = runtimeOf(cmd);
        const query = {
          actor: opts.actor,
          action: opts.action,
          target: opts.target,
          from: opts.from ? parseTime(opts.from) : opts.since ? parseTime(opts.since) : undefined,
          to: opts.to ? parseTime(opts.to) : undefined,
        };
        const rows = await rt
          .api()
          .list('/api/v1/audit-events', { query }, opts.all ? Number.POSITIVE_INFINITY : opts.limit);
        rt.out.print(rows, () =>
          rt.out.table(rows, [
            { header: 'time', value: (r) => r.created_at },
            { header: 'actor', value: (r) => who(r.actor_type, r.actor_id) },
            { header: 'action', value: (r) => r.action, paint: (t, _r, c) => c.cyan(t) },
            { header: 'target', value: (r) => who(r.target_type, r.target_id) },
            { header: 'request', value: (r) => r.request_id },
          ]),
        );
      }),
    [
      'maas audit ls',
      'maas audit ls --action key.create --since 7d',
      'maas audit ls --all -o json > audit.json',
    ],
  );

  examples(
    audit
      .command('verify')
      .description('check the hash chain end to end; exit 1 if any event was altered or removed')
      .action(async (_opts: unknown, cmd: Command) => {
        const rt = runtimeOf(cmd);
        const spin = rt.out.progress('verifying the audit chain');
        const result = await rt
          .api()
          .request('GET', '/api/v1/audit-events/verify')
          .finally(() => spin.stop());
        rt.out.print(result, () =>
          rt.out.line(
            result.ok
              ? `${rt.out.c.green('ok')}: ${result.checked} events, chain intact`
              : `${rt.out.c.red('broken')}: chain breaks at ${result.first_broken_id} (${result.checked} events checked)`,
          ),
        );
        if (!result.ok)
          throw new CliError(
            `the audit chain is broken at ${result.first_broken_id}`,
            EXIT.general,
            'check_failed',
          );
      }),
    ['maas audit verify', 'maas audit verify -o json'],
  );
}
