import type { OutboundPolicy } from '@maas/outbound';
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { AppError, conflict, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import type { Actor } from '../../http/request-context.ts';
import { newId } from '../../ids.ts';
import type { AuditService } from '../audit/index.ts';
import type { CreateDeploymentBody, UpdateDeploymentBody } from './bodies.ts';
import { replicaMemory } from './cluster-view.ts';
import type { FleetConfig } from './config.ts';
import type { Controller } from './controller.ts';
import { buildSpec as buildSpecOf, isUniqueViolation, type SpecInput } from './deployment-spec.ts';
import { toDeploymentDto } from './dto.ts';
import { evaluateDeployment } from './evaluate-deployment.ts';
import { createReplicaQueries } from './replica-queries.ts';
import { type DeploymentRow, type DeploymentSpec, deployments, replicas } from './schema.ts';

export interface DeploymentServiceDeps {
  db: Db;
  audit: AuditService;
  config: FleetConfig;
  controller: Controller;
  /** is this name taken by a registry model the fleet does not manage? */
  modelNameTaken(orgId: string, name: string, exceptModelId: string | null): boolean;
  publish(nodeIds: Iterable<string>): Promise<void>;
  /** the id of the Kubernetes cluster a placement names, checked for the spec (./kubernetes) */
  resolveCluster(p: Principal, ref: string, spec: DeploymentSpec): Promise<string>;
  /** where a spec's remote model header may be read from for its estimate */
  outbound?: OutboundPolicy | undefined;
}

export function createDeploymentService(deps: DeploymentServiceDeps) {
  const { db, audit, config, controller } = deps;

  const find = async (tx: DbOrTx, orgId: string, id: string): Promise<DeploymentRow> => {
    const [row] = await tx
      .select()
      .from(deployments)
      .where(and(eq(deployments.id, id), eq(deployments.orgId, orgId)));
    if (!row) throw notFound('deployment');
    return row;
  };
  const replicasOf = (tx: DbOrTx, id: string) =>
    tx.select().from(replicas).where(eq(replicas.deploymentId, id)).orderBy(asc(replicas.id));
  const view = async (tx: DbOrTx, row: DeploymentRow) => toDeploymentDto(row, await replicasOf(tx, row.id));

  const buildSpec = (p: Principal, input: SpecInput, base?: DeploymentSpec) =>
    buildSpecOf(db, config.hfEndpoint, p, input, base, deps.outbound);

  /** After a change: place what can be placed now and tell the nodes. */
  async function placeNow(): Promise<void> {
    const placed = await db.transaction((tx) => controller.placePending(tx));
    await deps.publish(placed.nodeIds);
    void controller.kick();
  }

  /**
   * One audited change to a deployment of the caller's org (another org's is a 404); `changes` sees
   * the row locked in the transaction and may refuse; the nodes hear at once.
   */
  async function change(
    actor: Actor,
    id: string,
    action: string,
    changes: (before: DeploymentRow) => Partial<typeof deployments.$inferInsert>,
  ) {
    const p = actor.principal;
    await find(db, p.orgId, id);
    await db.transaction(async (tx) => {
      const before = await find(tx, p.orgId, id);
      const [after] = await tx
        .update(deployments)
        .set({ ...changes(before), updatedAt: new Date() })
        .where(eq(deployments.id, id))
        .returning();
      await audit.append(tx, actor.audit, {
        orgId: p.orgId,
        action,
        target: { type: 'deployment', id },
        before: toDeploymentDto(before, []),
        after: toDeploymentDto(after!, []),
      });
    });
    await controller.kick();
    return view(db, await find(db, p.orgId, id));
  }

  return {
    find,

    async list(p: Principal, limit: number, cursor?: string) {
      const where: SQL[] = [eq(deployments.orgId, p.orgId)];
      if (cursor) where.push(gt(deployments.id, cursor));
      const rows = await db
        .select()
        .from(deployments)
        .where(and(...where))
        .orderBy(asc(deployments.id))
        .limit(limit + 1);
      return Promise.all(rows.map(async (row) => ({ id: row.id, dto: await view(db, row) })));
    },

    async get(p: Principal, id: string) {
      return view(db, await find(db, p.orgId, id));
    },

    async create(actor: Actor, body: CreateDeploymentBody) {
      const p = actor.principal;
      if (deps.modelNameTaken(p.orgId, body.model, null))
        throw conflict(`a registry model named "${body.model}" already exists`);
      const spec = await buildSpec(p, body);
      const cluster = body.placement?.cluster
        ? await deps.resolveCluster(p, body.placement.cluster, spec)
        : undefined;
      const at = new Date();
      let row: DeploymentRow;
      try {
        row = await db.transaction(async (tx) => {
          const [created] = await tx
            .insert(deployments)
            .values({
              id: newId('dep'),
              orgId: p.orgId,
              name: body.model,
              replicas: body.replicas,
              placement: {
                strategy: body.placement?.strategy ?? 'spread',
                node_selector: body.placement?.node_selector ?? {},
                ...(cluster ? { cluster } : {}),
              },
              spec,
              createdBy: actor.audit.actorId,
              createdAt: at,
              updatedAt: at,
            })
            .returning();
          if (body.replicas > 0) {
            await tx.insert(replicas).values(
              Array.from({ length: body.replicas }, () => ({
                id: newId('rep'),
                orgId: p.orgId,
                deploymentId: created!.id,
                revision: 1,
                spec,
                createdAt: at,
                updatedAt: at,
              })),
            );
          }
          await audit.append(tx, actor.audit, {
            orgId: p.orgId,
            action: 'deployment.create',
            target: { type: 'deployment', id: created!.id },
            after: toDeploymentDto(created!, []),
          });
          return created!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a deployment named "${body.model}" already exists`);
        throw err;
      }
      await placeNow();
      return view(db, await find(db, p.orgId, row.id));
    },

    async update(actor: Actor, id: string, body: UpdateDeploymentBody) {
      const p = actor.principal;
      const current = await find(db, p.orgId, id);
      if (current.status === 'deleting') throw conflict('this deployment is being deleted');
      const specKeys = [
        'version',
        'runtime',
        'source',
        'checksum',
        'context_length',
        'runtime_args',
        'parameters',
        'env',
        'command',
        'health_path',
        'resources',
      ] as const;
      const specChanged = specKeys.some((k) => body[k] !== undefined);
      if (body.canary && !specChanged) {
        throw new AppError('unprocessable', 'a canary needs a change of version or spec', undefined, {
          param: 'canary',
        });
      }
      const next = specChanged ? await buildSpec(p, body as SpecInput, current.spec) : null;
      const wantCluster = body.placement?.cluster;
      const cluster = wantCluster
        ? await deps.resolveCluster(p, wantCluster, next ?? current.spec)
        : undefined;
      if (cluster !== undefined && cluster !== current.placement.cluster)
        throw new AppError(
          'unprocessable',
          'placement.cluster is chosen when a deployment is created',
          undefined,
          {
            param: 'placement.cluster',
          },
        );
      if (body.canary && current.placement.cluster)
        throw new AppError(
          'unprocessable',
          'a deployment on a Kubernetes cluster updates by the Deployment’s rolling update; canaries need nodes',
          undefined,
          { param: 'canary' },
        );
      if (next && current.placement.cluster) await deps.resolveCluster(p, current.placement.cluster, next);
      const action = next ? (body.canary ? 'deployment.canary' : 'deployment.update') : 'deployment.scale';
      return change(actor, id, action, (before) => ({
        ...(body.replicas !== undefined ? { replicas: body.replicas } : {}),
        ...(body.placement
          ? {
              placement: {
                strategy: body.placement.strategy ?? before.placement.strategy,
                node_selector: body.placement.node_selector ?? before.placement.node_selector,
                ...(before.placement.cluster ? { cluster: before.placement.cluster } : {}),
              },
            }
          : {}),
        ...(next
          ? {
              spec: next,
              revision: before.revision + 1,
              previousSpec: { ...before.spec, revision: before.revision },
              canary: body.canary ? { replicas: body.canary.replicas, weight: body.canary.weight } : null,
            }
          : {}),
      }));
    },

    /** Back to the spec before the last update: its replicas (a canary's old ones) become current again. */
    rollback(actor: Actor, id: string) {
      return change(actor, id, 'deployment.rollback', (before) => {
        if (!before.previousSpec) throw conflict('nothing to roll back to');
        const { revision: previousRevision, ...spec } = before.previousSpec;
        return {
          spec,
          revision: previousRevision ?? before.revision + 1,
          previousSpec: { ...before.spec, revision: before.revision },
          canary: null,
        };
      });
    },

    /** Ends a canary: the new version rolls out to every replica, one at a time. */
    promote(actor: Actor, id: string) {
      return change(actor, id, 'deployment.promote', (before) => {
        if (!before.canary) throw conflict('this deployment has no canary to promote');
        return { canary: null };
      });
    },

    /** Replicas leave the gateway and stop; the deployment and its registry model go once they have. */
    async remove(actor: Actor, id: string) {
      const p = actor.principal;
      await find(db, p.orgId, id);
      await db.transaction(async (tx) => {
        const before = await find(tx, p.orgId, id);
        if (before.status === 'deleting') return;
        await tx
          .update(deployments)
          .set({ status: 'deleting', updatedAt: new Date() })
          .where(eq(deployments.id, id));
        await audit.append(tx, actor.audit, {
          orgId: p.orgId,
          action: 'deployment.delete',
          target: { type: 'deployment', id },
          before: toDeploymentDto(before, []),
        });
      });
      await controller.kick();
    },

    /**
     * The dry run: what would happen now, with the scheduler's funnel and reason. Changes nothing,
     * but checks like a create (who may set what) before it reads any model.
     */
    async evaluate(p: Principal, body: CreateDeploymentBody) {
      const spec = await buildSpec(p, body);
      if (body.placement?.cluster) {
        // a cluster's own scheduler places the pods: checked here is only that it may run there
        await deps.resolveCluster(p, body.placement.cluster, spec);
        const memory = replicaMemory(spec);
        return {
          fits: true,
          replicas: body.replicas,
          estimate: spec.estimate,
          memory_per_replica: 'bytes' in memory ? memory.bytes : null,
          placements: [],
          funnel: [],
          reason: `placed on Kubernetes cluster "${body.placement.cluster}": its scheduler places the pods`,
        };
      }
      return evaluateDeployment(db, body, spec);
    },

    ...createReplicaQueries(db),
  };
}

export type DeploymentService = ReturnType<typeof createDeploymentService>;
