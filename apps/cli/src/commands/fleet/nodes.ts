import type { Command } from 'commander';
import { paintStatus } from '../../lib/output.ts';
import { resolveId } from '../../lib/resolve.ts';
import { registerResource } from '../../lib/resource.ts';
import { examples, runtimeOf } from '../../lib/runtime.ts';
import { fleetRefs, gpuLine, nodeState, usage } from './shapes.ts';

const ACTIONS = {
  cordon: { summary: 'place no new replicas on a node', done: 'Cordoned' },
  uncordon: { summary: 'accept new replicas on a node again (also ends a drain)', done: 'Uncordoned' },
  drain: {
    summary: 'move every replica off a node (each stops once its replacement runs)',
    done: 'Draining',
  },
} as const;

/** `maas nodes ls|get|cordon|uncordon|drain|rm`: the machines of the fleet (platform admins). */
export function registerNodeCommands(program: Command): void {
  const group = registerResource(program, {
    ref: fleetRefs.node,
    command: 'nodes',
    aliases: ['node'],
    description: 'the machines that run replicas: GPUs, memory, health, cordon and drain (platform admins)',
    columns: [
      { header: 'name', value: (n) => n.name },
      {
        header: 'status',
        value: nodeState,
        paint: (t, n, c) => t.replace(n.status, paintStatus(n.status, c)),
      },
      { header: 'address', value: (n) => n.address },
      { header: 'cpu', value: (n) => (n.cpu ? `${n.cpu.cores} cores, load ${n.cpu.load1}` : null) },
      { header: 'memory', value: (n) => usage(n.memory) },
      { header: 'gpus', value: (n) => n.gpus.length || 'cpu' },
      { header: 'runtimes', value: (n) => n.runtimes },
      { header: 'heartbeat', value: (n) => n.last_heartbeat_at },
    ],
    details: (n) => [
      ['id', n.id],
      ['name', n.name],
      ['hostname', n.hostname],
      ['address', n.address],
      ['status', nodeState(n)],
      ['local', n.local],
      ['tenant workloads', n.tenant_workloads],
      ['labels', Object.entries(n.labels).map(([k, v]) => `${k}=${v}`)],
      ['runtimes', n.runtimes],
      ['cpu', n.cpu ? `${n.cpu.cores} × ${n.cpu.model}, load ${n.cpu.load1}` : null],
      ['memory', usage(n.memory)],
      ['disk', n.disk ? `${usage(n.disk)} on ${n.disk.path}` : null],
      ...n.gpus.map((g): [string, unknown] => [`gpu ${g.index}`, gpuLine(g)]),
      ['ports', `${n.port_range[0]}-${n.port_range[1]}`],
      ['agent', n.agent_version],
      ['heartbeat', n.last_heartbeat_at],
      ['created', n.created_at],
    ],
    examples: {
      ls: ['maas nodes ls', 'maas nodes ls -o json | jq -r \'.[] | select(.status != "ready") | .name\''],
      get: ['maas nodes get gpu-01'],
      delete: ['maas nodes rm gpu-01 --yes      # a node that runs nothing'],
    },
  });

  for (const [action, { summary, done }] of Object.entries(ACTIONS)) {
    examples(group.command(action).description(summary).argument('<node>', 'node id or name'), [
      `maas nodes ${action} gpu-01`,
    ]).action(async (ref: string, _opts: object, cmd: Command) => {
      const rt = runtimeOf(cmd);
      const id = await resolveId(rt.api(), fleetRefs.node, ref);
      const node = await rt
        .api()
        .request('POST', `/api/v1/nodes/{id}/${action as keyof typeof ACTIONS}`, { params: { id } });
      rt.out.print(node, () => rt.out.line(`${done} node ${rt.out.c.bold(node.name)}: ${nodeState(node)}`));
    });
  }
}
