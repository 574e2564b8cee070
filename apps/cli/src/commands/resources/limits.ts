import type { ApiItem } from '@maas/contracts';
import type { Command, OptionValues } from 'commander';
import type { ApiClient } from '../../lib/api-client.ts';
import { usageError } from '../../lib/errors.ts';
import { refs, resolveId } from '../../lib/resolve.ts';
import { registerResource } from '../../lib/resource.ts';
import { parseInteger, parseNumber } from '../../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

const PERIODS = ['day', 'week', 'month', 'total'];

/** The flags every limit takes, and the body fields they fill. */
const limitOptions = (cmd: Command) =>
  cmd
    .option('--rpm <n>', 'requests per minute', parseInteger)
    .option('--rpd <n>', 'requests per day', parseInteger)
    .option('--tpm <n>', 'tokens per minute', parseInteger)
    .option('--tpd <n>', 'tokens per day', parseInteger)
    .option('--max-concurrent <n>', 'requests in flight', parseInteger)
    .option('--token-quota <n>', 'tokens per quota period', parseInteger)
    .option('--quota-period <period>', PERIODS.join(', '))
    .option('--budget <amount>', 'spend per budget period', parseNumber)
    .option('--budget-period <period>', PERIODS.join(', '))
    .option(
      '--soft-threshold <fraction>',
      'notify at this share of a quota or budget (e.g. 0.8)',
      parseNumber,
    )
    .option('--webhook-url <url>', 'POSTed when the soft threshold is reached')
    .option('--description <text>', 'why the limit exists');

const fieldsOf = (o: Opts) => {
  for (const p of [o.quotaPeriod, o.budgetPeriod])
    if (p !== undefined && !PERIODS.includes(p))
      throw usageError(`period must be one of ${PERIODS.join(', ')}`);
  return {
    rpm: o.rpm,
    rpd: o.rpd,
    tpm: o.tpm,
    tpd: o.tpd,
    max_concurrent: o.maxConcurrent,
    token_quota: o.tokenQuota,
    quota_period: o.quotaPeriod,
    budget: o.budget,
    budget_period: o.budgetPeriod,
    soft_threshold: o.softThreshold,
    webhook_url: o.webhookUrl,
    description: o.description,
  };
};

/** `--key k` → scope key, `--project p` → scope project, `--user u` → scope user, else the org. */
async function subjectOf(api: ApiClient, o: Opts) {
  if ([o.key, o.project, o.user].filter(Boolean).length > 1)
    throw usageError('give one of --key, --project or --user');
  if (o.key) return { scope: 'key', scope_id: await resolveId(api, refs.key, o.key) };
  if (o.user) return { scope: 'user', scope_id: await resolveId(api, refs.user, o.user) };
  if (o.project) return { scope: 'project', scope_id: await resolveId(api, refs.project, o.project) };
  return { scope: 'org' };
}

type Limit = ApiItem<'/api/v1/limits'>;

const summary = (r: Limit) =>
  [
    ['rpm', r.rpm],
    ['rpd', r.rpd],
    ['tpm', r.tpm],
    ['tpd', r.tpd],
    ['concurrent', r.max_concurrent],
    ['tokens', r.token_quota === null ? null : `${r.token_quota}/${r.quota_period}`],
    ['budget', r.budget === null ? null : `${r.budget}/${r.budget_period}`],
  ]
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function registerLimitResource(program: Command): void {
  registerResource(program, {
    ref: refs.limit,
    command: 'limits',
    aliases: ['limit'],
    description: 'rate limits, token quotas and budgets on the org, a project, an API key or a user',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'scope', value: (r) => r.scope },
      { header: 'subject', value: (r) => r.scope_id },
      { header: 'model', value: (r) => r.model ?? '*' },
      { header: 'limits', value: summary },
    ],
    list: {
      options: (cmd) =>
        cmd
          .option('--key <key>', 'only the limits of this key (id or name)')
          .option('--project <project>', 'only the limits of this project (id or name)')
          .option('--user <user>', 'only the limits of this user (id or email)'),
      query: async (opts, rt) =>
        opts.key || opts.project || opts.user ? await subjectOf(rt.api(), opts) : {},
    },
    create: {
      options: (cmd) =>
        limitOptions(
          cmd
            .option('--key <key>', 'limit this API key (id or name)')
            .option('--project <project>', 'limit this project (id or name)')
            .option('--user <user>', 'limit this user: every key they create shares it (id or email)')
            .option('--model <model>', 'only requests for this model (default: all models together)'),
        ),
      body: async (_args, opts, rt) => ({
        ...(await subjectOf(rt.api(), opts)),
        model: opts.model,
        ...fieldsOf(opts),
      }),
    },
    update: { options: limitOptions, body: fieldsOf },
    examples: {
      ls: ['maas limits ls', 'maas limits ls --key ci-bot'],
      get: ['maas limits get lim_01j…'],
      create: [
        'maas limits create --key ci-bot --rpm 60 --tpm 100000',
        'maas limits create --user alice@example.com --token-quota 1000000 --quota-period month',
        'maas limits create --project search-app --budget 500 --budget-period month --soft-threshold 0.8',
      ],
      update: ['maas limits update lim_01j… --rpm 120'],
      delete: ['maas limits delete lim_01j… --yes'],
    },
  });
}
