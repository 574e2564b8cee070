import { createHash } from 'node:crypto';
import type { DesiredReplica, DesiredState } from '@maas/contracts/agent';
import { and, eq, inArray, not } from 'drizzle-orm';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { DbOrTx } from '../../db/client.ts';
import { deployments, replicas } from './schema.ts';

/**
 * What a node should run: its replicas that are placed and wanted, plus those leaving the gateway
 * but not yet told to stop. The version is a digest, so an agent can tell whether it missed a push.
 * Each replica carries the credential its runtime must require (only its node's agent sees it).
 */
export async function desiredFor(db: DbOrTx, nodeId: string, secrets: SecretBox): Promise<DesiredState> {
  const rows = await db
    .select({ r: replicas, name: deployments.name })
    .from(replicas)
    .innerJoin(deployments, eq(deployments.id, replicas.deploymentId))
    .where(
      and(eq(replicas.nodeId, nodeId), not(inArray(replicas.state, ['pending', 'stopping', 'stopped']))),
    );
  const list: DesiredReplica[] = rows
    .map(({ r, name }) => ({
      id: r.id,
      deployment_id: r.deploymentId,
      model_name: name,
      runtime: r.spec.runtime,
      source: r.spec.source,
      checksum: r.spec.checksum,
      port: r.port ?? 0,
      gpu_indexes: r.gpuIndexes,
      memory_bytes: r.memoryBytes,
      context_length: r.spec.context_length ?? r.spec.estimate?.context_length ?? null,
      runtime_args: r.spec.runtime_args,
      parameters: r.spec.parameters ?? {},
      env: r.spec.env,
      command: r.spec.command,
      health_path: r.spec.health_path,
      api_key: r.apiKeySealed ? secrets.open(r.apiKeySealed) : null,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const version = createHash('sha256').update(JSON.stringify(list)).digest('hex').slice(0, 16);
  return { version, node_id: nodeId, replicas: list };
}
