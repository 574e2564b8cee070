import type { Command } from 'commander';
import { registerDeploymentCommands } from './deployments.ts';
import { registerNodeCommands } from './nodes.ts';
import { registerReplicaCommands } from './replicas.ts';
import { registerTopCommand } from './top.ts';

/** `maas nodes`, `maas deployments`, `maas replicas` and `maas top`: the fleet's admin API. */
export function registerFleetCommands(program: Command): void {
  registerNodeCommands(program);
  registerDeploymentCommands(program);
  registerReplicaCommands(program);
  registerTopCommand(program);
}
