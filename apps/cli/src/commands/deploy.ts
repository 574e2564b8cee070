import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AdminError } from '@maas/contracts';
import { RUNTIMES } from '@maas/contracts/agent';
import type { Command, OptionValues } from 'commander';
import type { ResponseOf } from '../lib/api-client.ts';
import { CliError, EXIT, usageError } from '../lib/errors.ts';
import { collect, examples, parseDuration, parseInteger, runtimeOf } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;
type Dep = ResponseOf<'/api/v1/deployments', 'POST'>;

function pairs(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf('=');
    if (eq < 1) throw usageError(`${flag} wants key=value, got "${p}"`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** `--param key=value`: numbers and true/false become JSON values; the server checks them against the runtime. */
function parametersOf(list: string[] | undefined): Record<string, string | number | boolean> | undefined {
  const raw = pairs(list, '--param');
  if (!raw) return undefined;
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [
      k,
      v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v,
    ]),
  );
}

/** A local path becomes absolute (the nodes read it); URLs and hf:// pass through. */
function sourceOf(text: string): string {
  if (/^(https?|hf|file):\/\//.test(text)) return text;
  const abs = resolve(text);
  if (!existsSync(abs)) throw usageError(`no such file: ${abs}`);
  return abs;
}

function bodyOf(source: string, opts: Opts) {
  const runtime = opts.runtime ?? (/\.gguf$/i.test(source) ? 'llama-cpp' : 'vllm');
  if (!(RUNTIMES as readonly string[]).includes(runtime))
    throw usageError(`--runtime must be one of ${RUNTIMES.join(', ')}`);
  const memory =
    opts.gpuMemoryGib === undefined
      ? undefined
      : opts.gpuMemoryGib === 'auto'
        ? 'auto'
        : Number(opts.gpuMemoryGib);
  if (typeof memory === 'number' && !(memory > 0))
    throw usageError('--gpu-memory-gib wants a number of GiB or "auto"');
  const resources =
    opts.gpus !== undefined || memory !== undefined
      ? {
          ...(opts.gpus !== undefined ? { gpus: opts.gpus } : {}),
          ...(memory !== undefined ? { gpu_memory_gib: memory } : {}),
        }
      : undefined;
  const selector = pairs(opts.selector, '--selector');
  return {
    runtime,
    source,
    ...(opts.version ? { version: opts.version } : {}),
    ...(opts.checksum ? { checksum: opts.checksum } : {}),
    ...(opts.contextLength ? { context_length: opts.contextLength } : {}),
    ...(opts.param ? { parameters: parametersOf(opts.param) } : {}),
    ...(opts.arg ? { runtime_args: opts.arg } : {}),
    ...(opts.env ? { env: pairs(opts.env, '--env') } : {}),
    ...(opts.command ? { command: opts.command } : {}),
    ...(opts.healthPath ? { health_path: opts.healthPath } : {}),
    ...(resources ? { resources } : {}),
    ...(opts.strategy || selector
      ? {
          placement: {
            ...(opts.strategy ? { strategy: opts.strategy } : {}),
            ...(selector ? { node_selector: selector } : {}),
          },
        }
      : {}),
  };
}

const summary = (d: Dep) =>
  d.replica_states
    .filter((r) => r.desired === 'run')
    .map((r) => `${r.state}${r.reason ? ` (${r.reason})` : ''}`)
    .join(', ');

export function registerDeployCommand(program: Command): void {
  const cmd = program
    .command('deploy <source>')
    .description(
      'run a model on the fleet (a GGUF file, a model directory, https://… or hf://org/repo/file) and serve it through /v1',
    )
    .requiredOption('--name <model>', 'the model name clients call')
    .option('--runtime <runtime>', `${RUNTIMES.join(', ')} (default: llama-cpp for .gguf, else vllm)`)
    .option('--replicas <n>', 'replicas (default 1)', parseInteger)
    .option(
      '--version <label>',
      'version label; deploying a new one to an existing name rolls it out one replica at a time',
    )
    .option('--gpus <n>', 'GPUs per replica, on one node (0: CPU)', parseInteger)
    .option('--gpu-memory-gib <gib>', 'memory per replica, or "auto" to estimate it from the model')
    .option('--context-length <n>', 'context length', parseInteger)
    .option('--checksum <sha256:hex>', 'downloads must match it')
    .option(
      '--param <key=value>',
      'a typed runtime parameter (repeatable), e.g. --param threads=4 (llama-cpp), --param dtype=bfloat16 (vllm)',
      collect,
    )
    .option(
      '--arg <arg>',
      'platform admins: a free-form runtime argument (repeatable), e.g. --arg=--threads --arg=4',
      collect,
    )
    .option(
      '--env <KEY=value>',
      'platform admins: an environment variable for the runtime (repeatable)',
      collect,
    )
    .option('--selector <key=value>', 'only nodes with this label (repeatable)', collect)
    .option('--strategy <strategy>', 'spread or binpack')
    .option(
      '--command <template>',
      'platform admins, custom runtime: command with {model_path} {model_name} {host} {port} {gpus}',
    )
    .option('--health-path <path>', 'custom runtime: health check path')
    .option('--dry-run', 'only show where it would run, or why it cannot')
    .option('--no-wait', 'return at once instead of waiting for the replicas to run')
    .option('--timeout <duration>', 'how long to wait (default 10m)', '10m')
    .action(async (sourceText: string, opts: Opts, command: Command) => {
      const rt = runtimeOf(command);
      const api = rt.api();
      const body = bodyOf(sourceOf(sourceText), opts);
      if (opts.dryRun) {
        const res = await api.request('POST', '/api/v1/deployments/evaluate', {
          body: { model: opts.name, replicas: opts.replicas ?? 1, ...body },
        });
        rt.out.print(res, () => {
          rt.out.fields([
            ['fits', res.fits ? 'yes' : 'no'],
            [
              'memory per replica',
              res.memory_per_replica === null
                ? 'unknown'
                : `${(res.memory_per_replica / 1024 ** 3).toFixed(2)} GiB`,
            ],
            [
              'estimate',
              res.estimate
                ? `${res.estimate.method}${res.estimate.context_length ? `, context ${res.estimate.context_length}` : ''}`
                : null,
            ],
            ['reason', res.reason],
          ]);
          rt.out.table(res.placements, [
            { header: 'node', value: (p) => p.node_name },
            { header: 'gpus', value: (p) => p.gpu_indexes.join(',') || 'cpu' },
            { header: 'port', value: (p) => p.port },
          ]);
        });
        if (!res.fits) process.exitCode = EXIT.conflict;
        return;
      }
      const created = await api.raw('POST', '/api/v1/deployments', {
        body: {
          model: opts.name,
          ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
          ...body,
        },
      });
      // a 2xx body is the new deployment; an error status answers the admin error envelope
      let dep = created.body as Dep;
      const error = (created.body as Partial<AdminError> | null)?.error;
      if (created.status === 409 && /deployment named/.test(error?.message ?? '')) {
        // Deploying to an existing name updates it (a new version rolls out one replica at a time).
        const existing = (await api.list('/api/v1/deployments')).find((d) => d.name === opts.name);
        if (!existing) throw new CliError(error?.message ?? '', EXIT.conflict);
        const { placement: _p, ...spec } = body;
        dep = await api.request('PATCH', '/api/v1/deployments/{id}', {
          params: { id: existing.id },
          body: { ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}), ...spec },
        });
        rt.out.note(`updating deployment ${dep.name} to revision ${dep.revision}`);
      } else if (created.status >= 400) {
        throw new CliError(
          error?.message ?? `the server answered ${created.status}`,
          created.status === 409 || created.status === 422 ? EXIT.conflict : EXIT.general,
        );
      }
      if (opts.wait) {
        const deadline = Date.now() + parseDuration(opts.timeout);
        const progress = rt.out.progress(`deploying ${dep.name}: ${summary(dep)}`);
        for (;;) {
          const run = dep.replica_states.filter((r) => r.desired === 'run');
          const done =
            run.length === dep.replicas &&
            run.every((r) => r.state === 'running' && r.revision === dep.revision);
          if (done) {
            progress.succeed(
              `${dep.name} is serving on ${run.length} replica${run.length === 1 ? '' : 's'}: call it as model "${dep.name}" through /v1`,
            );
            break;
          }
          if (Date.now() > deadline) {
            progress.fail();
            throw new CliError(`timed out: ${summary(dep)}`, EXIT.general);
          }
          progress.update(`deploying ${dep.name}: ${summary(dep)}`);
          await new Promise((r) => setTimeout(r, 500));
          dep = await api.request('GET', '/api/v1/deployments/{id}', { params: { id: dep.id } });
        }
      }
      rt.out.print(dep, () =>
        rt.out.fields([
          ['id', dep.id],
          ['model', dep.name],
          ['version', dep.version],
          ['runtime', dep.runtime],
          ['source', dep.source],
          ['replicas', `${dep.ready_replicas}/${dep.replicas} running`],
          ['states', summary(dep)],
        ]),
      );
    });
  examples(cmd, [
    'maas deploy ./model.gguf --name my-model',
    'maas deploy hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf --name qwen-small --replicas 2',
    'maas deploy /srv/models/llama-3-8b --name llama3 --runtime vllm --gpus 2 --dry-run',
    'maas deploy hf://org/repo/model.gguf --name tuned --param threads=4 --param parallel=2',
  ]);
}
