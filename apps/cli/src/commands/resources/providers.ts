import type { Command, OptionValues } from 'commander';
import { CliError, EXIT, usageError } from '../../lib/errors.ts';
import { paintStatus } from '../../lib/output.ts';
import { refs, resolveId } from '../../lib/resolve.ts';
import { registerResource } from '../../lib/resource.ts';
import { collect, examples, parseInteger, readStdin, runtimeOf } from '../../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

const TYPES = ['openai-compatible', 'anthropic'];

/** Secrets come from an environment variable or standard input, never from argv. */
async function apiKeyFrom(opts: Opts): Promise<string | null | undefined> {
  if (opts.removeApiKey) return null;
  if (opts.apiKeyStdin) return (await readStdin()).trim();
  if (opts.apiKeyEnv) {
    const value = process.env[opts.apiKeyEnv];
    if (!value) throw usageError(`environment variable ${opts.apiKeyEnv} is not set`);
    return value;
  }
  return undefined;
}

function headersOf(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`--header wants Name=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function type(value: string): string {
  if (!TYPES.includes(value)) throw usageError(`type must be ${TYPES.join(' or ')}`);
  return value;
}

const connectionOptions = (cmd: Command) =>
  cmd
    .option('--api-key-env <VAR>', 'read the upstream API key from this environment variable')
    .option('--api-key-stdin', 'read the upstream API key from standard input')
    .option('--header <Name=value>', 'an extra request header, stored encrypted (repeatable)', collect)
    .option('--timeout-ms <ms>', 'per-attempt upstream timeout', parseInteger)
    .option('--max-connections <n>', 'connection pool size', parseInteger);

export function registerProviderResource(program: Command): void {
  const group = registerResource(program, {
    ref: refs.provider,
    command: 'providers',
    aliases: ['provider'],
    description: 'upstream connections (vLLM, Ollama, OpenAI, Anthropic …) that models route to',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'type', value: (r) => r.type },
      { header: 'base url', value: (r) => r.base_url },
      { header: 'key', value: (r) => (r.has_api_key ? 'yes' : 'no') },
      { header: 'health', value: (r) => r.health?.status, paint: (t, _r, c) => paintStatus(t, c) },
    ],
    details: (r) => [
      ['id', r.id],
      ['name', r.name],
      ['type', r.type],
      ['base url', r.base_url],
      ['api key', r.has_api_key ? 'stored (encrypted)' : 'none'],
      ['headers', r.header_names],
      ['timeout', `${r.timeout_ms} ms`],
      ['connections', r.max_connections],
      ['health', r.health?.status],
      [
        'last probe',
        r.health?.last_probe
          ? `${r.health.last_probe.ok ? 'ok' : r.health.last_probe.error} (${r.health.last_probe.latency_ms} ms)`
          : null,
      ],
      ['error rate', r.health ? `${(r.health.error_rate * 100).toFixed(1)}% of ${r.health.requests}` : null],
      ['created', r.created_at],
    ],
    create: {
      args: ['<name>'],
      options: (cmd) =>
        connectionOptions(
          cmd
            .requiredOption('--base-url <url>', 'upstream base URL, e.g. http://gpu-1:8000/v1')
            .option('--type <type>', TYPES.join(' or '), type, 'openai-compatible'),
        ),
      body: async ([name], opts) => ({
        name,
        type: opts.type,
        base_url: opts.baseUrl,
        api_key: (await apiKeyFrom(opts)) ?? undefined,
        headers: headersOf(opts.header),
        timeout_ms: opts.timeoutMs,
        max_connections: opts.maxConnections,
      }),
    },
    update: {
      options: (cmd) =>
        connectionOptions(
          cmd
            .option('--name <name>', 'new name')
            .option('--base-url <url>', 'new base URL')
            .option('--type <type>', TYPES.join(' or '), type)
            .option('--remove-api-key', 'forget the stored API key'),
        ),
      body: async (opts) => ({
        name: opts.name,
        type: opts.type,
        base_url: opts.baseUrl,
        api_key: await apiKeyFrom(opts),
        headers: headersOf(opts.header),
        timeout_ms: opts.timeoutMs,
        max_connections: opts.maxConnections,
      }),
    },
    examples: {
      ls: ['maas providers ls'],
      get: ['maas providers get vllm-a100'],
      create: [
        'maas providers create vllm-a100 --base-url http://gpu-1:8000/v1',
        'OPENAI_KEY=sk-… maas providers create openai --base-url https://api.openai.com/v1 --api-key-env OPENAI_KEY',
        'maas providers create claude --type anthropic --base-url https://api.anthropic.com --api-key-stdin < key.txt',
      ],
      update: ['maas providers update vllm-a100 --timeout-ms 120000'],
      delete: ['maas providers delete vllm-a100 --yes'],
    },
  });

  examples(
    group
      .command('test')
      .description("test the connection: calls the upstream's model list (exit 1 when it fails)")
      .argument('<ref>', 'provider id or name'),
    ['maas providers test vllm-a100', 'maas providers test openai -o json'],
  ).action(async (ref: string, _opts: Opts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const id = await resolveId(rt.api(), refs.provider, ref);
    const spin = rt.out.progress(`testing ${ref}`);
    const result = await rt
      .api()
      .request('POST', '/api/v1/providers/{id}/test', { params: { id }, body: {} })
      .finally(() => spin.stop());
    rt.out.print(result, () => {
      rt.out.fields([
        ['result', result.ok ? rt.out.c.green('ok') : rt.out.c.red('failed')],
        ['latency', `${result.latency_ms} ms`],
        ['status', result.status_code],
        ['error', result.error],
        ...(result.models ? ([['models', result.models]] as [string, unknown][]) : []),
      ]);
    });
    if (!result.ok)
      throw new CliError(
        `provider ${ref} failed its test: ${result.error ?? 'no answer'}`,
        EXIT.general,
        'check_failed',
      );
  });
}
