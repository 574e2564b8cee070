import type { Command } from 'commander';
import type { ApiClient } from '../lib/api-client.ts';
import { CliError, usageError } from '../lib/errors.ts';
import type { Output } from '../lib/output.ts';
import { buildPlan, loadState } from '../lib/plan.ts';
import type { ApplyContext, Step } from '../lib/plan-types.ts';
import { confirm } from '../lib/prompt.ts';
import { examples, type Runtime, runtimeOf } from '../lib/runtime.ts';
import { waitForRollout } from './fleet/deployments.ts';

interface ApplyOptions {
  file?: string;
  dryRun?: boolean;
  wait?: boolean;
  timeout: string;
  prune?: boolean;
  updateSecrets?: boolean;
  yes?: boolean;
}

const show = (v: unknown) =>
  v === null || v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);

function summaryOf(steps: Step[]) {
  const count = (a: Step['action']) => steps.filter((s) => s.action === a).length;
  return {
    create: count('create'),
    update: count('update'),
    delete: count('delete'),
    unchanged: count('unchanged'),
  };
}

function printPlan(out: Output, steps: Step[], dryRun: boolean): void {
  const { c } = out;
  const mark = { create: c.green('+'), update: c.yellow('~'), delete: c.red('-'), unchanged: c.dim('=') };
  for (const step of steps) {
    if (step.action === 'unchanged') continue;
    out.line(`${mark[step.action]} ${step.kind} ${c.bold(step.name)}`);
    for (const ch of step.changes)
      out.line(
        step.action === 'create'
          ? `    ${ch.field}: ${show(ch.to)}`
          : `    ${ch.field}: ${c.red(show(ch.from))} → ${c.green(show(ch.to))}`,
      );
  }
  const s = summaryOf(steps);
  const line = dryRun
    ? `${c.bold('Plan')}: ${s.create} to create, ${s.update} to change, ${s.delete} to delete, ${s.unchanged} unchanged (dry run: nothing was changed)`
    : `${c.bold('Applied')}: ${s.create} created, ${s.update} changed, ${s.delete} deleted, ${s.unchanged} unchanged`;
  out.line(line);
}

/** With --wait: each deployment the apply created or changed, followed to the end of its rollout. */
async function followRollouts(rt: Runtime, api: ApiClient, steps: Step[], timeout: string): Promise<void> {
  const names = steps.filter((s) => s.kind === 'deployment' && s.action !== 'delete').map((s) => s.name);
  if (names.length === 0) return;
  const all = await api.list('/api/v1/deployments');
  for (const name of names) {
    const d = all.find((x) => x.name === name);
    if (d) await waitForRollout(rt, api, d, timeout);
  }
}

async function apply(cmd: Command, opts: ApplyOptions): Promise<void> {
  if (!opts.file) throw usageError('which file? give -f maas.yaml (or -f - for standard input)');
  const rt = runtimeOf(cmd);
  const { readManifest } = await import('../lib/manifest.ts'); // zod and yaml only when applying
  const manifest = await readManifest(opts.file);
  const api = rt.api();
  const spin = rt.out.progress('reading the current state');
  const state = await loadState(api).finally(() => spin.stop());
  const plan = buildPlan(manifest, state, { prune: opts.prune, updateSecrets: opts.updateSecrets });
  const dryRun = Boolean(opts.dryRun);
  if (plan.missingEnv.length) {
    const text = `environment variable${plan.missingEnv.length > 1 ? 's' : ''} ${plan.missingEnv.join(', ')} not set`;
    if (!dryRun) throw usageError(`${text}: the file takes secrets from them`);
    rt.out.warn(text);
  }
  const pending = plan.steps.filter((s) => s.action !== 'unchanged');
  const deletions = pending.filter((s) => s.action === 'delete');
  if (!dryRun && deletions.length && !opts.yes) {
    if (!(await confirm(`delete ${deletions.map((d) => `${d.kind} ${d.name}`).join(', ')}?`))) {
      rt.out.note('aborted: nothing was changed');
      return;
    }
  }
  if (!dryRun) {
    const ctx: ApplyContext = { api, providerIds: new Map(state.providers.map((p) => [p.name, p.id])) };
    const progress = rt.out.progress('applying');
    try {
      for (const [i, step] of pending.entries()) {
        progress.update(`applying ${i + 1}/${pending.length}: ${step.kind} ${step.name}`);
        await step.run!(ctx).catch((err: unknown) => {
          if (err instanceof CliError)
            throw new CliError(
              `${step.kind} ${step.name}: ${err.message}`,
              err.exitCode,
              err.code,
              err.details,
            );
          throw err;
        });
      }
    } finally {
      progress.stop();
    }
  }
  if (!dryRun && opts.wait) await followRollouts(rt, api, pending, opts.timeout);
  const report = {
    dry_run: dryRun,
    applied: !dryRun,
    summary: summaryOf(plan.steps),
    changes: plan.steps.map(({ run: _run, ...s }) => s),
  };
  rt.out.print(report, () => printPlan(rt.out, plan.steps, dryRun));
}

export function registerApplyCommand(program: Command): void {
  examples(
    program
      .command('apply')
      .description(
        'make projects, providers, models (versions, targets, weights, prices), fleet deployments and limits match a file',
      )
      .option('-f, --file <path>', 'the file (YAML or JSON; - for standard input)')
      .option('--dry-run', 'print what would change, change nothing')
      .option('--wait', 'after applying, follow each created or changed deployment until its rollout is done')
      .option('--timeout <duration>', 'how long --wait waits for each deployment', '10m')
      .option(
        '--prune',
        'also delete providers, models, deployments and limits the file does not name (never projects)',
      )
      .option(
        '--update-secrets',
        're-send the secrets the file names (the server cannot show them to compare)',
      )
      .option('-y, --yes', 'do not ask before deleting (with --prune)')
      .addHelpText(
        'after',
        `
The file (maas export writes one):
  projects:
    - name: search
      description: the search team
  providers:
    - name: vllm
      base_url: http://gpu-1:8000/v1
      api_key_env: VLLM_API_KEY        # the secret comes from this variable, never from the file
  models:
    - name: chat-small
      aliases: [small]
      versions:
        - version: "1"
          weight: 90
          pricing: { currency: USD, input_per_million: 0.5, output_per_million: 1.5 }
          targets: [{ provider: vllm, upstream_model: Qwen/Qwen2.5-7B-Instruct }]
        - version: "2"
          weight: 10
          targets: [{ provider: vllm, upstream_model: Qwen/Qwen3-8B }]
  deployments:                          # models run by the fleet's nodes
    - name: tiny-llama                  # the model name clients call
      runtime: llama-cpp
      source: hf://org/repo/model.Q4_K_M.gguf
      version: "1"                      # a new version or source rolls out one replica at a time
      replicas: 2
      resources: { gpus: 1 }
      placement: { strategy: spread, node_selector: { pool: a10 } }
  limits:
    - key: ci-bot                       # or project: <name>, or org: true
      rpm: 60
      tpm: 100000
Fields you leave out are left as they are. Applying the same file twice changes nothing.`,
      )
      .action(async (opts: ApplyOptions, cmd: Command) => apply(cmd, opts)),
    [
      'maas apply -f maas.yaml --dry-run',
      'maas apply -f maas.yaml',
      'maas apply -f maas.yaml --wait        # and follow the deployments it changed',
      'maas export > maas.yaml && maas apply -f maas.yaml --prune',
    ],
  );
}
