import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import type { Actor } from '../../http/request-context.ts';
import type { AuditService } from '../audit/index.ts';
import type { Controller } from './controller.ts';
import { toReplicaDto } from './dto.ts';
import type { GatewayTargets } from './gateway-targets.ts';
import { deployments, replicas } from './schema.ts';

/**
 * Restarting a replica replaces it: it leaves the gateway at once and is told to stop after the
 * drain period, while the reconcile loop creates and places a fresh replica of the deployment's
 * current version (a runtime stuck in a bad state gets a clean process, possibly on another node).
 */
export function createReplicaRestart(deps: {
  db: Db;
  audit: AuditService;
  controller: Controller;
  targets: Pick<GatewayTargets, 'sync'>;
}) {
  const { db, audit, controller, targets } = deps;
  return async function restartReplica(actor: Actor, id: string) {
    const p = actor.principal;
    const mine = and(eq(replicas.id, id), eq(replicas.orgId, p.orgId));
    const [seen] = await db.select({ id: replicas.id }).from(replicas).where(mine);
    if (!seen) throw notFound('replica');
    const after = await db.transaction(async (tx) => {
      const [before] = await tx.select().from(replicas).where(mine).for('update');
      if (!before) throw notFound('replica');
      if (before.desired === 'stop') throw conflict('this replica is already stopping');
      const [dep] = await tx.select().from(deployments).where(eq(deployments.id, before.deploymentId));
      if (dep?.status === 'deleting') throw conflict('this deployment is being deleted');
      if (dep?.placement.cluster)
        throw new AppError(
          'unprocessable',
          'replicas on a Kubernetes cluster are pods of its Deployment: delete the pod there to restart it',
        );
      const [row] = await tx
        .update(replicas)
        .set({
          desired: 'stop',
          reason: 'restart requested: a new replica replaces it',
          updatedAt: new Date(),
        })
        .where(eq(replicas.id, id))
        .returning();
      await audit.append(tx, actor.audit, {
        orgId: p.orgId,
        action: 'replica.restart',
        target: { type: 'replica', id },
        before: toReplicaDto(before),
        after: toReplicaDto(row!),
      });
      return row!;
    });
    // out of the gateway now; the replacement is created and placed by this pass
    await targets.sync(after.deploymentId);
    await controller.kick();
    return toReplicaDto(after);
  };
}
