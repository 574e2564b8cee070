import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../lib/errors.ts';
import { loadState } from '../lib/plan.ts';
import { LIMIT_FIELDS, type State } from '../lib/plan-types.ts';
import { examples, runtimeOf } from '../lib/runtime.ts';
import { toYaml } from '../lib/yaml.ts';

/** `my-provider` + `API_KEY` → `MY_PROVIDER_API_KEY` */
const envNameOf = (...parts: string[]) =>
  parts
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, '_$1');

const compact = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(
    Object.entries(o).filter(
      ([, v]) =>
        v !== undefined &&
        v !== null &&
        !(Array.isArray(v) && v.length === 0) &&
        !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0),
    ),
  );

/** The server's state as a maas.yaml document: what `maas apply` reads. */
export function manifestOf(state: State) {
  const providerName = new Map(state.providers.map((p) => [p.id, p.name as string]));
  const unique = (rows: { name: string }[], name: string) => rows.filter((r) => r.name === name).length === 1;
  const liveKeys = state.keys.filter((k) => k.status !== 'revoked');
  return {
    version: 1,
    providers: state.providers.map((p) =>
      compact({
        name: p.name,
        type: p.type,
        base_url: p.base_url,
        api_key_env: p.has_api_key ? envNameOf(p.name, 'API_KEY') : undefined,
        headers_env: Object.fromEntries((p.header_names ?? []).map((h: string) => [h, envNameOf(p.name, h)])),
        timeout_ms: p.timeout_ms,
        max_connections: p.max_connections,
      }),
    ),
    models: state.models.map((m) =>
      compact({
        name: m.name,
        type: m.type,
        aliases: m.aliases,
        description: m.description,
        context_length: m.context_length,
        default_params: m.default_params,
        fallbacks: m.fallbacks.map((f: { model: string; on?: string[] }) => (f.on ? f : f.model)),
        access: m.access,
        status: m.status,
        versions: m.versions.map((v) =>
          compact({
            version: v.version,
            weight: m.traffic[v.version] ?? v.traffic_weight,
            pricing: v.pricing,
            targets: v.targets.map((t) => ({
              provider: providerName.get(t.provider_id) ?? t.provider_id,
              upstream_model: t.upstream_model,
              weight: t.weight,
              priority: t.priority,
            })),
          }),
        ),
      }),
    ),
    limits: state.limits.map((l) => {
      const key = liveKeys.find((k) => k.id === l.scope_id);
      const project = state.projects.find((p) => p.id === l.scope_id);
      const subject =
        l.scope === 'key'
          ? { key: key && unique(liveKeys, key.name) ? key.name : l.scope_id }
          : l.scope === 'project'
            ? { project: project && unique(state.projects, project.name) ? project.name : l.scope_id }
            : { org: true };
      return compact({
        ...subject,
        model: l.model,
        ...Object.fromEntries(LIMIT_FIELDS.map((f) => [f, l[f]])),
      });
    }),
  };
}

export function registerExportCommand(program: Command): void {
  examples(
    program
      .command('export')
      .description('write the current providers, models and limits as a file for `maas apply` (no secrets)')
      .option('-f, --file <path>', 'write to this file instead of standard output')
      .action(async (opts: { file?: string }, cmd: Command) => {
        const rt = runtimeOf(cmd);
        if (rt.out.format === 'table' && rt.globals.output)
          throw new CliError('export writes yaml or json', EXIT.usage, 'usage');
        const spin = rt.out.progress('reading the current state');
        const state = await loadState(rt.api()).finally(() => spin.stop());
        const doc = manifestOf(state);
        const text =
          rt.out.format === 'json'
            ? `${JSON.stringify(doc, null, 2)}\n`
            : `# maas export of ${rt.api().server} at ${new Date().toISOString()}\n# Secrets are not exported: set the variables named by api_key_env / headers_env before maas apply.\n${toYaml(doc)}`;
        if (opts.file) {
          writeFileSync(opts.file, text);
          rt.out.note(`wrote ${opts.file}`);
        } else process.stdout.write(text);
      }),
    ['maas export > maas.yaml', 'maas export -f maas.yaml', 'maas export -o json | jq .models'],
  );
}
