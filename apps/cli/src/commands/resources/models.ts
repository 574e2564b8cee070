import type { ApiItem } from '@maas/contracts';
import type { Command, OptionValues } from 'commander';
import type { ApiClient } from '../../lib/api-client.ts';
import { usageError } from '../../lib/errors.ts';
import { paintStatus } from '../../lib/output.ts';
import { refs, resolveId } from '../../lib/resolve.ts';
import { registerResource } from '../../lib/resource.ts';
import { collect, examples, parseInteger, parseNumber, runtimeOf } from '../../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

const MODEL_TYPES = ['chat', 'completion', 'embedding', 'rerank', 'image', 'tts', 'stt'];
const STATUSES = ['active', 'deprecated', 'retired'];

/** `--target <provider>=<upstream model>`: the provider by id or name. */
async function targetsOf(api: ApiClient, specs: string[] | undefined) {
  if (!specs?.length) return undefined;
  const out = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq < 1 || eq === spec.length - 1)
      throw usageError(`--target wants <provider>=<upstream model>, got "${spec}"`);
    out.push({
      provider_id: await resolveId(api, refs.provider, spec.slice(0, eq)),
      upstream_model: spec.slice(eq + 1),
    });
  }
  return out;
}

function oneOf(values: string[], what: string) {
  return (value: string) => {
    if (!values.includes(value)) throw usageError(`${what} must be one of ${values.join(', ')}`);
    return value;
  };
}

type Model = ApiItem<'/api/v1/models'>;

const traffic = (r: Model) => Object.entries(r.traffic ?? {}).map(([v, w]) => `${v}:${w}`);

export function registerModelResource(program: Command): void {
  const group = registerResource(program, {
    ref: refs.model,
    command: 'models',
    aliases: ['model'],
    description: 'models clients call by name, their versions, targets and traffic split',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'type', value: (r) => r.type },
      { header: 'status', value: (r) => r.status, paint: (t, _r, c) => paintStatus(t, c) },
      { header: 'aliases', value: (r) => r.aliases },
      { header: 'traffic', value: traffic },
    ],
    details: (r) => [
      ['id', r.id],
      ['name', r.name],
      ['type', r.type],
      ['status', r.status],
      ['aliases', r.aliases],
      ['description', r.description],
      ['context length', r.context_length],
      ['defaults', Object.keys(r.default_params ?? {}).length ? r.default_params : null],
      ['fallbacks', r.fallbacks.map((f) => f.model)],
      ['traffic', traffic(r)],
      ...r.versions.map((v): [string, unknown] => [
        `version ${v.version}`,
        v.targets
          .map((t) => `${t.provider_id}=${t.upstream_model} (w${t.weight} p${t.priority})`)
          .join(', ') +
          (v.pricing
            ? `; ${v.pricing.input_per_million}/${v.pricing.output_per_million} ${v.pricing.currency} per 1M`
            : ''),
      ]),
      ['created', r.created_at],
    ],
    create: {
      args: ['<name>'],
      options: (cmd) =>
        cmd
          .requiredOption('--target <provider=upstream>', 'where requests go (repeatable)', collect)
          .option('--type <type>', MODEL_TYPES.join(', '), oneOf(MODEL_TYPES, 'type'), 'chat')
          .option('--alias <alias>', 'another name clients may use (repeatable)', collect)
          .option('--description <text>', 'what the model is')
          .option('--context-length <tokens>', 'context window', parseInteger)
          .option('--input-price <per-million>', 'price of 1M prompt tokens', parseNumber)
          .option('--output-price <per-million>', 'price of 1M completion tokens', parseNumber)
          .option('--currency <code>', 'ISO currency of the prices', 'USD'),
      body: async ([name], opts, rt) => {
        if ((opts.inputPrice === undefined) !== (opts.outputPrice === undefined))
          throw usageError('give both --input-price and --output-price');
        return {
          name,
          type: opts.type,
          targets: await targetsOf(rt.api(), opts.target),
          aliases: opts.alias,
          description: opts.description,
          context_length: opts.contextLength,
          pricing:
            opts.inputPrice === undefined
              ? undefined
              : {
                  currency: opts.currency,
                  input_per_million: opts.inputPrice,
                  output_per_million: opts.outputPrice,
                },
        };
      },
    },
    update: {
      options: (cmd) =>
        cmd
          .option('--name <name>', 'new name')
          .option('--alias <alias>', 'replace the aliases (repeatable)', collect)
          .option('--description <text>', 'new description')
          .option('--context-length <tokens>', 'context window', parseInteger)
          .option('--status <status>', STATUSES.join(', '), oneOf(STATUSES, 'status')),
      body: (opts) => ({
        name: opts.name,
        aliases: opts.alias,
        description: opts.description,
        context_length: opts.contextLength,
        status: opts.status,
      }),
    },
    examples: {
      ls: ['maas models ls', "maas models ls -o json | jq -r '.[].name'"],
      get: ['maas models get chat-small'],
      create: [
        'maas models create chat-small --target vllm-a100=Qwen/Qwen2.5-7B-Instruct --alias small',
        'maas models create embed --type embedding --target openai=text-embedding-3-small --input-price 0.02 --output-price 0',
      ],
      update: [
        'maas models update chat-small --status deprecated',
        'maas models update chat-small --alias small --alias default',
      ],
      delete: ['maas models delete chat-small --yes'],
    },
  });

  examples(
    group
      .command('versions')
      .description('list the versions of a model')
      .argument('<model>', 'model id or name'),
    ['maas models versions chat-small'],
  ).action(async (ref: string, _opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const id = await resolveId(rt.api(), refs.model, ref);
    const rows = await rt.api().list('/api/v1/models/{id}/versions', { params: { id } });
    rt.out.print(rows, () =>
      rt.out.table(rows, [
        { header: 'version', value: (v) => v.version },
        { header: 'traffic', value: (v) => v.traffic_weight },
        {
          header: 'targets',
          value: (v) => v.targets.map((t) => `${t.provider_id}=${t.upstream_model}`),
        },
        {
          header: 'pricing',
          value: (v) =>
            v.pricing
              ? `${v.pricing.input_per_million}/${v.pricing.output_per_million} ${v.pricing.currency}`
              : null,
        },
        { header: 'created', value: (v) => v.created_at },
      ]),
    );
  });

  examples(
    group
      .command('traffic')
      .description('split traffic between versions by weight (canary, rollback); versions left out get 0')
      .argument('<model>', 'model id or name')
      .argument('<weights...>', 'version=weight pairs'),
    ['maas models traffic chat-small 1=90 2=10', 'maas models traffic chat-small 1=100      # roll back'],
  ).action(async (ref: string, pairs: string[], _opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const weights: Record<string, number> = {};
    for (const pair of pairs) {
      const [version, weight] = pair.split('=');
      if (!version || weight === undefined) throw usageError(`want version=weight, got "${pair}"`);
      weights[version] = parseInteger(weight);
    }
    const id = await resolveId(rt.api(), refs.model, ref);
    const model = await rt
      .api()
      .request('PUT', '/api/v1/models/{id}/traffic', { params: { id }, body: { weights } });
    rt.out.print(model, () => rt.out.line(`Traffic of ${model.name}: ${traffic(model).join(' ')}`));
  });
}
