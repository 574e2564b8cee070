import type { Command } from 'commander';
import type { ApiClient } from '../../lib/api-client.ts';
import { CliError, EXIT, usageError } from '../../lib/errors.ts';
import { examples, parseDuration, type Runtime, runtimeOf } from '../../lib/runtime.ts';
import { bytes, type FleetNode, fleetRefs, nodeState, replicaState, usage } from './shapes.ts';

export interface TopSnapshot {
  /** null when the caller may not see nodes (they are platform resources) */
  nodes: FleetNode[] | null;
  replicas: {
    id: string;
    deployment: string;
    version: string;
    node: string | null;
    state: string;
    restarts: number;
    memory_bytes: number;
  }[];
}

/** Nodes (if the caller may see them) and the org's replicas that should run, with names. */
export async function snapshot(api: ApiClient): Promise<TopSnapshot> {
  const [nodes, deployments] = await Promise.all([
    api.list(fleetRefs.node.path).catch((err: unknown) => {
      if (err instanceof CliError && err.exitCode === EXIT.auth) return null;
      throw err;
    }),
    api.list(fleetRefs.deployment.path),
  ]);
  const nodeName = new Map((nodes ?? []).map((n) => [n.id, n.name]));
  const replicas = deployments.flatMap((d) =>
    d.replica_states
      .filter((r) => r.desired === 'run' || r.state !== 'stopped')
      .map((r) => ({
        id: r.id,
        deployment: d.name,
        version: r.version,
        node: r.node_id ? (nodeName.get(r.node_id) ?? r.node_id) : null,
        state: replicaState(r),
        restarts: r.restarts,
        memory_bytes: r.memory_bytes,
      })),
  );
  return { nodes, replicas };
}

const pct = (used: number, total: number) => (total > 0 ? `${Math.round((100 * used) / total)}%` : '-');

function draw(rt: Runtime, s: TopSnapshot): void {
  if (s.nodes) {
    rt.out.table(s.nodes, [
      { header: 'node', value: (n) => n.name },
      { header: 'status', value: nodeState },
      { header: 'load', value: (n) => (n.cpu ? `${n.cpu.load1}/${n.cpu.cores}` : null) },
      { header: 'memory', value: (n) => usage(n.memory) },
      {
        header: 'mem%',
        value: (n) => (n.memory ? pct(n.memory.total - n.memory.free, n.memory.total) : null),
      },
      {
        header: 'gpu memory',
        value: (n) =>
          n.gpus.map((g) => `${g.index}:${pct(g.memory_total - g.memory_free, g.memory_total)}`).join(' ') ||
          'cpu',
      },
      {
        header: 'gpu util',
        value: (n) =>
          n.gpus
            .map((g) => `${g.index}:${g.utilization_pct === null ? '?' : `${g.utilization_pct}%`}`)
            .join(' '),
      },
    ]);
    rt.out.line();
  } else rt.out.note('(nodes are shown to platform admins only)');
  rt.out.table(s.replicas, [
    { header: 'replica', value: (r) => r.id },
    { header: 'deployment', value: (r) => r.deployment },
    { header: 'version', value: (r) => r.version },
    { header: 'node', value: (r) => r.node },
    { header: 'state', value: (r) => r.state },
    { header: 'restarts', value: (r) => r.restarts },
    { header: 'memory', value: (r) => bytes(r.memory_bytes) },
  ]);
}

/** `maas top`: nodes' CPU, memory and GPUs and replicas' states, once or refreshing. */
export function registerTopCommand(program: Command): void {
  examples(
    program
      .command('top')
      .description("the fleet at a glance: nodes' load, memory and GPUs, replicas' states")
      .option('-w, --watch', 'refresh until interrupted')
      .option('--interval <duration>', 'with --watch: how often to refresh', '2s'),
    ['maas top', 'maas top --watch --interval 5s', 'maas top -o json'],
  ).action(async (opts: { watch?: boolean; interval: string }, cmd: Command) => {
    const rt = runtimeOf(cmd);
    const api = rt.api();
    if (!opts.watch) {
      const s = await snapshot(api);
      rt.out.print(s, () => draw(rt, s));
      return;
    }
    if (!rt.out.human) throw usageError('--watch draws a table for people: leave out -o');
    const every = parseDuration(opts.interval);
    let stop = false;
    process.once('SIGINT', () => {
      stop = true;
    });
    const tty = Boolean(process.stdout.isTTY);
    while (!stop) {
      const s = await snapshot(api);
      if (tty) process.stdout.write('\x1b[2J\x1b[H');
      rt.out.line(
        rt.out.c.dim(`maas top: ${new Date().toISOString().slice(11, 19)}, every ${opts.interval}`),
      );
      draw(rt, s);
      await new Promise((r) => setTimeout(r, every));
    }
  });
}
