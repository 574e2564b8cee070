import type { ApiItem } from '@maas/contracts';
import type { Command, OptionValues } from 'commander';
import type { ResponseOf } from '../lib/api-client.ts';
import { usageError } from '../lib/errors.ts';
import { paintStatus } from '../lib/output.ts';
import { refSpec, resolveId } from '../lib/resolve.ts';
import { registerResource } from '../lib/resource.ts';
import { examples, parseDuration, parseInteger, type Runtime, runtimeOf } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

type Endpoint = ApiItem<'/api/v1/webhook-endpoints'>;
/** An endpoint as a create or a rotation answers it: with its new signing secret. */
type EndpointWithSecret =
  | ResponseOf<'/api/v1/webhook-endpoints', 'POST'>
  | ResponseOf<'/api/v1/webhook-endpoints/{id}/rotate-secret', 'POST'>;
type Delivery = ApiItem<'/api/v1/webhook-endpoints/{id}/deliveries'>;

const endpointRef = refSpec({
  singular: 'webhook endpoint',
  path: '/api/v1/webhook-endpoints',
  idPrefix: 'whe',
  names: (r) => [r.url],
});

/** `batch.completed,job.*` (or repeated) → a list of patterns. */
const eventsOf = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean),
];

const stateOf = (e: Endpoint) => (e.enabled ? 'enabled' : e.disabled_reason ? 'disabled (410)' : 'disabled');

/** Prints an endpoint with its new signing secret: the only time the server shows it. */
function showSecret(row: EndpointWithSecret, opts: Opts, rt: Runtime, verb: string): void {
  if (opts.quiet) {
    rt.out.line(row.secret ?? '');
    return;
  }
  rt.out.print(row, () => {
    rt.out.line(`${verb} webhook endpoint ${rt.out.c.bold(row.id)} → ${row.url}`);
    rt.out.fields([
      ['events', row.events],
      ['state', stateOf(row)],
      ...(row.previous_secret_expires_at
        ? [['old secret until', row.previous_secret_expires_at] as [string, unknown]]
        : []),
    ]);
    rt.out.line();
    rt.out.line(`${rt.out.c.bold('signing secret:')} ${rt.out.c.green(row.secret ?? '')}`);
    rt.out.line();
  });
  if (rt.out.human) rt.out.warn('this is the only time the secret is shown: store it now');
}

const deliveryColumns = [
  { header: 'id', value: (d: Delivery) => d.id },
  { header: 'event', value: (d: Delivery) => d.event_type },
  {
    header: 'status',
    value: (d: Delivery) => d.status,
    paint: (t: string, _d: Delivery, c: Parameters<typeof paintStatus>[1]) =>
      t === 'succeeded' ? c.green(t) : paintStatus(t, c),
  },
  { header: 'attempts', value: (d: Delivery) => d.attempts },
  { header: 'http', value: (d: Delivery) => d.response_status },
  { header: 'next attempt', value: (d: Delivery) => d.next_attempt_at },
  { header: 'created', value: (d: Delivery) => d.created_at },
];

export function registerWebhookCommands(program: Command): void {
  const group = registerResource(program, {
    ref: endpointRef,
    command: 'webhooks',
    aliases: ['webhook'],
    description: "your org's webhook endpoints (Standard Webhooks, signed): batch.*, job.*, budget alerts",
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'url', value: (r) => r.url },
      { header: 'events', value: (r) => r.events },
      {
        header: 'state',
        value: stateOf,
        paint: (t, _r, c) => (t === 'enabled' ? c.green(t) : c.yellow(t)),
      },
      { header: 'created', value: (r) => r.created_at },
    ],
    create: {
      options: (cmd) =>
        cmd
          .requiredOption('--url <url>', 'where events are POSTed (must pass the outbound policy)')
          .option(
            '--events <list>',
            'event patterns, comma-separated: batch.completed,job.* (default all)',
            eventsOf,
          )
          .option('--description <text>', 'a note for people')
          .option('--disabled', 'create it disabled')
          .option('-q, --quiet', 'print only the signing secret'),
      body: (_args, opts) => ({
        url: opts.url,
        events: opts.events,
        description: opts.description,
        enabled: opts.disabled ? false : undefined,
      }),
      after: (row, opts, rt) => showSecret(row, opts, rt, 'Created'),
    },
    update: {
      options: (cmd) =>
        cmd
          .option('--url <url>', 'new address')
          .option('--events <list>', 'replace the event patterns (comma-separated)', eventsOf)
          .option('--description <text>', 'a note for people ("" clears it)')
          .option('--enable', 'send to it again (clears why maas disabled it)')
          .option('--disable', 'stop sending to it'),
      body: (opts) => {
        if (opts.enable && opts.disable) throw usageError('--enable or --disable, not both');
        return {
          url: opts.url,
          events: opts.events,
          description: opts.description === '' ? null : opts.description,
          enabled: opts.enable ? true : opts.disable ? false : undefined,
        };
      },
    },
    examples: {
      ls: ['maas webhooks ls'],
      get: ['maas webhooks get whe_…'],
      create: [
        'maas webhooks create --url https://example.com/hooks --events batch.completed,job.*',
        'SECRET=$(maas webhooks create --url https://example.com/hooks -q)',
      ],
      update: ['maas webhooks update whe_… --events "batch.*"', 'maas webhooks update whe_… --enable'],
      delete: ['maas webhooks rm whe_… --yes'],
    },
  });

  examples(
    group
      .command('rotate-secret')
      .description('a new signing secret, shown once; the old one keeps signing alongside it for --grace')
      .argument('<ref>', 'endpoint id or url')
      .option('--grace <duration>', 'how long the old secret keeps signing (e.g. 1h, 0s; default 24h)')
      .option('-q, --quiet', 'print only the new secret'),
    ['maas webhooks rotate-secret whe_… --grace 1h', 'NEW=$(maas webhooks rotate-secret whe_… -q)'],
  ).action(async (ref: string, opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const id = await resolveId(rt.api(), endpointRef, ref);
    const body = opts.grace ? { grace_period_s: Math.round(parseDuration(opts.grace) / 1000) } : {};
    const row = await rt
      .api()
      .request('POST', '/api/v1/webhook-endpoints/{id}/rotate-secret', { params: { id }, body });
    showSecret(row, opts, rt, 'Rotated the secret of');
  });

  examples(
    group
      .command('test')
      .description('send a webhook.test event to an endpoint now (whatever its filters)')
      .argument('<ref>', 'endpoint id or url'),
    ['maas webhooks test whe_…', 'maas webhooks deliveries whe_… --limit 1'],
  ).action(async (ref: string, _opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const id = await resolveId(rt.api(), endpointRef, ref);
    const d = await rt
      .api()
      .request('POST', '/api/v1/webhook-endpoints/{id}/test', { params: { id }, body: {} });
    rt.out.print(d, () => rt.out.line(`Sent webhook.test as delivery ${rt.out.c.bold(d.id)} (${d.status})`));
  });

  examples(
    group
      .command('deliveries')
      .description('the delivery log of an endpoint, newest first')
      .argument('<ref>', 'endpoint id or url')
      .option('--status <status>', 'pending, succeeded or failed')
      .option('--event-type <type>', 'only this event type')
      .option('--limit <n>', 'at most this many (default 50)', parseInteger),
    ['maas webhooks deliveries whe_…', 'maas webhooks deliveries whe_… --status failed -o json'],
  ).action(async (ref: string, opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const id = await resolveId(rt.api(), endpointRef, ref);
    const rows = await rt
      .api()
      .list(
        '/api/v1/webhook-endpoints/{id}/deliveries',
        { params: { id }, query: { status: opts.status, event_type: opts.eventType } },
        opts.limit ?? 50,
      );
    rt.out.print(rows, () => rt.out.table(rows, deliveryColumns));
  });

  examples(
    group
      .command('replay')
      .description('send a delivery again now: same webhook-id and body, a fresh retry window')
      .argument('<delivery-id>', 'delivery id (whd_…)'),
    ['maas webhooks replay whd_…'],
  ).action(async (deliveryId: string, _opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const d = await rt
      .api()
      .request('POST', '/api/v1/webhook-deliveries/{id}/replay', { params: { id: deliveryId }, body: {} });
    rt.out.print(d, () => rt.out.line(`Replaying delivery ${rt.out.c.bold(d.id)} (${d.event_type})`));
  });
}
