import type { Command } from 'commander';
import type { ApiClient } from '../../lib/api-client.ts';
import { fetchOne, resolveId } from '../../lib/resolve.ts';
import { examples, parseDuration, parseInteger, type Runtime, runtimeOf } from '../../lib/runtime.ts';
import { bytes, fleetRefs, replicaState } from './shapes.ts';

/**
 * The lines of `next` after those `prev` already showed: the server keeps a sliding tail, so the
 * last lines of `prev` (up to 10, fewer when the window slid past some) are looked for in `next`,
 * the last match winning; none found, all are new.
 */
export function newLines(prev: string[], next: string[]): string[] {
  for (let k = Math.min(prev.length, 10); k > 0; k--) {
    const anchor = prev.slice(-k);
    for (let p = next.length - k; p >= 0; p--) {
      if (anchor.every((line, i) => next[p + i] === line)) return next.slice(p + k);
    }
  }
  return next;
}

async function follow(rt: Runtime, api: ApiClient, id: string, first: string[], everyMs: number) {
  let prev = first;
  let stop = false;
  process.once('SIGINT', () => {
    stop = true;
  });
  while (!stop) {
    await new Promise((r) => setTimeout(r, everyMs));
    const next = (
      await api.request('GET', '/api/v1/replicas/{id}/logs', { params: { id }, query: { tail: 1000 } })
    ).lines;
    for (const line of newLines(prev, next)) rt.out.line(line);
    prev = next;
  }
}

interface ListOpts {
  limit?: number;
  deployment?: string;
  node?: string;
}

/** `maas replicas ls|get|logs`: the running copies of deployments. */
export function registerReplicaCommands(program: Command): void {
  const group = examples(
    program
      .command('replicas')
      .alias('replica')
      .description('the copies of a deployment running on nodes: state, node, endpoint, logs'),
    ['maas replicas ls --deployment my-model', 'maas replicas logs rep_01j… -f'],
  );

  examples(
    group
      .command('ls')
      .alias('list')
      .description('list replicas, newest first')
      .option('--deployment <ref>', 'only those of this deployment (id or name)')
      .option('--node <ref>', 'only those on this node (id or name; platform admins)')
      .option('--limit <n>', 'at most this many (default: all)', parseInteger),
    ['maas replicas ls', 'maas replicas ls --deployment my-model -o json'],
  ).action(async (opts: ListOpts, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const api = rt.api();
    const query = {
      deployment_id: opts.deployment
        ? await resolveId(api, fleetRefs.deployment, opts.deployment)
        : undefined,
      node_id: opts.node ? await resolveId(api, fleetRefs.node, opts.node) : undefined,
    };
    const rows = await api.list(fleetRefs.replica.path, { query }, opts.limit ?? Number.POSITIVE_INFINITY);
    rt.out.print(rows, () =>
      rt.out.table(rows, [
        { header: 'id', value: (r) => r.id },
        { header: 'deployment', value: (r) => r.deployment_id },
        { header: 'version', value: (r) => r.version },
        { header: 'node', value: (r) => r.node_id },
        { header: 'state', value: replicaState },
        { header: 'desired', value: (r) => r.desired },
        { header: 'restarts', value: (r) => r.restarts },
        { header: 'endpoint', value: (r) => r.endpoint },
      ]),
    );
  });

  examples(group.command('get').description('show one replica').argument('<replica>', 'replica id'), [
    'maas replicas get rep_01j…',
  ]).action(async (ref: string, _opts: object, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const r = await fetchOne(rt.api(), fleetRefs.replica, ref);
    rt.out.print(r, () =>
      rt.out.fields([
        ['id', r.id],
        ['deployment', r.deployment_id],
        ['revision', r.revision],
        ['version', r.version],
        ['node', r.node_id],
        ['state', replicaState(r)],
        ['desired', r.desired],
        ['endpoint', r.endpoint],
        ['gpus', r.gpu_indexes.length ? r.gpu_indexes : 'cpu'],
        ['memory', bytes(r.memory_bytes)],
        ['restarts', r.restarts],
        ['replaces', r.replaces],
        ['started', r.started_at],
        ['created', r.created_at],
      ]),
    );
  });

  examples(
    group
      .command('logs')
      .description("a replica's recent runtime log lines (secret shapes redacted by the server)")
      .argument('<replica>', 'replica id')
      .option('--tail <n>', 'the last n lines (1-1000)', parseInteger, 200)
      .option('-f, --follow', 'keep printing new lines until interrupted')
      .option('--interval <duration>', 'with --follow: how often to ask', '1s'),
    ['maas replicas logs rep_01j… --tail 50', 'maas replicas logs rep_01j… -f'],
  ).action(async (ref: string, opts: { tail: number; follow?: boolean; interval: string }, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const api = rt.api();
    const id = await resolveId(api, fleetRefs.replica, ref);
    const logs = await api.request('GET', '/api/v1/replicas/{id}/logs', {
      params: { id },
      query: { tail: opts.tail },
    });
    rt.out.print(logs, () => {
      for (const line of logs.lines) rt.out.line(line);
    });
    if (opts.follow && rt.out.human) await follow(rt, api, id, logs.lines, parseDuration(opts.interval));
  });
}
