import type { Command } from 'commander';
import type { ApiClient } from '../../lib/api-client.ts';
import { CliError, usageError } from '../../lib/errors.ts';
import { paintStatus } from '../../lib/output.ts';
import { resolveId } from '../../lib/resolve.ts';
import { registerResource } from '../../lib/resource.ts';
import { examples, parseDuration, parseInteger, type Runtime, runtimeOf } from '../../lib/runtime.ts';
import { type FleetDeployment, type FleetReplica, fleetRefs, replicaState } from './shapes.ts';

const current = (d: FleetDeployment) => d.replica_states.filter((r) => r.desired === 'run');
const states = (d: FleetDeployment) => current(d).map(replicaState).join(', ');

/** Every replica that should run does, at the deployment's revision, and the old ones are gone. */
export const rolledOut = (d: FleetDeployment) =>
  current(d).length === d.replicas &&
  current(d).every((r) => r.state === 'running' && r.revision === d.revision) &&
  d.replica_states.every((r) => r.desired === 'run' || r.state === 'stopped' || r.state === 'failed');

/** Follows a rollout with a progress line until every replica runs the current revision. */
export async function waitForRollout(rt: Runtime, api: ApiClient, dep: FleetDeployment, timeout: string) {
  const deadline = Date.now() + parseDuration(timeout);
  const progress = rt.out.progress(`${dep.name}: ${states(dep)}`);
  // without a terminal the spinner is silent: each change of the replicas' states is a line instead
  const lines = rt.out.human && !process.stderr.isTTY;
  let last = '';
  let d = dep;
  while (!rolledOut(d)) {
    if (Date.now() > deadline) {
      progress.fail();
      throw new CliError(`timed out: ${d.name} has ${d.ready_replicas}/${d.replicas} running (${states(d)})`);
    }
    const text = `${d.name}: ${d.ready_replicas}/${d.replicas} running: ${states(d)}`;
    progress.update(text);
    if (lines && text !== last) rt.out.note(text);
    last = text;
    await new Promise((r) => setTimeout(r, 500));
    d = await api.request('GET', '/api/v1/deployments/{id}', { params: { id: d.id } });
  }
  const done = `${d.name}: ${d.ready_replicas}/${d.replicas} running at revision ${d.revision}`;
  progress.succeed(done);
  if (lines) rt.out.note(done);
  return d;
}

function showRollout(rt: Runtime, d: FleetDeployment): void {
  rt.out.print(d, () => {
    rt.out.fields([
      ['deployment', d.name],
      ['revision', d.revision],
      ['version', d.version],
      ['previous version', d.previous_version],
      ['canary', d.canary ? `${d.canary.replicas} replica(s), ${d.canary.weight}% of traffic` : null],
      ['replicas', `${d.ready_replicas}/${d.replicas} running`],
      ['rolled out', rolledOut(d) ? 'yes' : 'no'],
    ]);
    rt.out.table(d.replica_states, [
      { header: 'replica', value: (r: FleetReplica) => r.id },
      { header: 'revision', value: (r) => r.revision },
      { header: 'version', value: (r) => r.version },
      { header: 'desired', value: (r) => r.desired },
      {
        header: 'state',
        value: replicaState,
        paint: (t, r, c) => t.replace(r.state, paintState(r.state, c)),
      },
    ]);
  });
}

const paintState = (s: string, c: Parameters<typeof paintStatus>[1]) =>
  s === 'running' ? c.green(s) : s === 'failed' ? c.red(s) : s === 'stopped' ? c.dim(s) : c.yellow(s);

interface WaitOpts {
  wait?: boolean;
  timeout: string;
}

/** `maas deployments ls|get|rm|scale|rollout`: models running on the fleet. */
export function registerDeploymentCommands(program: Command): void {
  const group = registerResource(program, {
    ref: fleetRefs.deployment,
    command: 'deployments',
    aliases: ['deployment', 'deploys'],
    description: 'models running on the fleet (create one with `maas deploy`): scale, roll out, roll back',
    columns: [
      { header: 'name', value: (d) => d.name },
      { header: 'version', value: (d) => d.version },
      { header: 'runtime', value: (d) => d.runtime },
      { header: 'ready', value: (d) => `${d.ready_replicas}/${d.replicas}` },
      { header: 'revision', value: (d) => d.revision },
      { header: 'status', value: (d) => d.status, paint: (t, _d, c) => paintStatus(t, c) },
      { header: 'replicas', value: states },
    ],
    details: (d) => [
      ['id', d.id],
      ['name', d.name],
      ['status', d.status],
      ['version', d.version],
      ['previous version', d.previous_version],
      ['revision', d.revision],
      ['runtime', d.runtime],
      ['source', d.source],
      ['replicas', `${d.ready_replicas}/${d.replicas} running`],
      ['canary', d.canary ? `${d.canary.replicas} replica(s) at ${d.canary.weight}%` : null],
      ['gpus per replica', d.resources.gpus || 'cpu'],
      [
        'placement',
        `${d.placement.strategy}${d.placement.cluster ? ` on cluster ${d.placement.cluster}` : ''}`,
      ],
      ['node selector', Object.entries(d.placement.node_selector).map(([k, v]) => `${k}=${v}`)],
      ...current(d).map((r): [string, unknown] => [`replica ${r.id}`, replicaState(r)]),
      ['created', d.created_at],
    ],
    examples: {
      ls: ['maas deployments ls', "maas deployments ls -o json | jq -r '.[].name'"],
      get: ['maas deployments get my-model'],
      delete: ['maas deployments rm my-model --yes'],
    },
  });

  examples(
    group
      .command('scale')
      .description('change the number of replicas')
      .argument('<deployment>', 'deployment id or name')
      .argument('<replicas>', 'the new number of replicas', parseInteger)
      .option('--wait', 'wait until that many run')
      .option('--timeout <duration>', 'how long to wait', '10m'),
    ['maas deployments scale my-model 3', 'maas deployments scale my-model 0      # stop, keep the spec'],
  ).action(async (ref: string, replicas: number, opts: WaitOpts, cmd: Command) => {
    if (replicas < 0) throw usageError('replicas must be 0 or more');
    const rt = runtimeOf(cmd);
    const api = rt.api();
    const id = await resolveId(api, fleetRefs.deployment, ref);
    let d = await api.request('PATCH', '/api/v1/deployments/{id}', { params: { id }, body: { replicas } });
    if (opts.wait) d = await waitForRollout(rt, api, d, opts.timeout);
    rt.out.print(d, () =>
      rt.out.line(`Scaled ${rt.out.c.bold(d.name)} to ${d.replicas} (${d.ready_replicas} running)`),
    );
  });

  const rollout = examples(
    group
      .command('rollout')
      .description('the progress of an update, and going back (rolling updates and canaries)'),
    ['maas deployments rollout status my-model --wait', 'maas deployments rollout undo my-model'],
  );
  examples(
    rollout
      .command('status')
      .description("a deployment's revision, versions and replicas by revision")
      .argument('<deployment>', 'deployment id or name')
      .option('-w, --wait', 'wait until the rollout is done')
      .option('--timeout <duration>', 'how long to wait', '10m'),
    ['maas deployments rollout status my-model', 'maas deployments rollout status my-model --wait'],
  ).action(async (ref: string, opts: WaitOpts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const api = rt.api();
    const id = await resolveId(api, fleetRefs.deployment, ref);
    let d = await api.request('GET', '/api/v1/deployments/{id}', { params: { id } });
    if (opts.wait) d = await waitForRollout(rt, api, d, opts.timeout);
    showRollout(rt, d);
  });

  for (const [verb, route, summary] of [
    ['undo', 'rollback', 'return to the version before the last update'],
    ['promote', 'promote', 'end a canary: roll the new version out to every replica'],
  ] as const) {
    examples(
      rollout
        .command(verb)
        .description(summary)
        .argument('<deployment>', 'deployment id or name')
        .option('--wait', 'wait until the rollout is done')
        .option('--timeout <duration>', 'how long to wait', '10m'),
      [`maas deployments rollout ${verb} my-model`],
    ).action(async (ref: string, opts: WaitOpts, cmd: Command) => {
      const rt = runtimeOf(cmd);
      const api = rt.api();
      const id = await resolveId(api, fleetRefs.deployment, ref);
      let d = await api.request('POST', `/api/v1/deployments/{id}/${route}`, { params: { id } });
      rt.out.note(`${d.name}: revision ${d.revision}, version ${d.version}`);
      if (opts.wait) d = await waitForRollout(rt, api, d, opts.timeout);
      showRollout(rt, d);
    });
  }
}
