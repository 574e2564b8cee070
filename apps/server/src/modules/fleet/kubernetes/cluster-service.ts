import type { OutboundPolicy } from '@maas/outbound';
import { asc, eq, gt, or, sql } from 'drizzle-orm';
import type { SecretBox } from '../../../crypto/secret-box.ts';
import type { Db, DbOrTx } from '../../../db/client.ts';
import { AppError, conflict, forbidden, notFound } from '../../../http/app-error.ts';
import type { Principal } from '../../../http/principal.ts';
import type { Actor } from '../../../http/request-context.ts';
import { newId } from '../../../ids.ts';
import type { AuditService } from '../../audit/index.ts';
import { type ClusterRow, clusters, type DeploymentSpec, deployments } from '../schema.ts';
import { isLocalSource } from '../spec-policy.ts';
import { type CreateClusterBody, toClusterDto, type UpdateClusterBody } from './cluster-dto.ts';
import { CLUSTER_RUNTIMES } from './manifests.ts';

export interface ClusterServiceDeps {
  db: Db;
  audit: AuditService;
  /** seals the service-account token */
  secrets: SecretBox;
  /** the API server's URL must pass it (MAAS_OUTBOUND_ALLOW lets a private address through) */
  outbound: OutboundPolicy;
  /** a pass of the Kubernetes reconciler, after a change */
  kick(): void;
}

const imagesOf = (images: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(images).filter((e): e is [string, string] => Boolean(e[1])));

const isAdmin = (p: Principal) => p.kind === 'user' && p.isPlatformAdmin;

/** Clusters are platform resources, like nodes: 403 on the collection, 404 on an id for anyone else. */
function requirePlatformAdmin(p: Principal, one = false): void {
  if (isAdmin(p)) return;
  if (one) throw notFound('cluster');
  throw forbidden('clusters are platform resources: only platform admins may see or change them');
}

export function createClusterService(deps: ClusterServiceDeps) {
  const { db, audit, secrets, outbound } = deps;

  const find = async (tx: DbOrTx, id: string): Promise<ClusterRow> => {
    const [row] = await tx.select().from(clusters).where(eq(clusters.id, id));
    if (!row) throw notFound('cluster');
    return row;
  };

  /** The API server is an outbound destination like any other (MAAS_OUTBOUND_ALLOW for a private one). */
  const checkApiServer = async (url: string) => {
    const refused = await outbound.checkUrl(url);
    if (refused)
      throw new AppError('unprocessable', `api_server ${refused.message}`, undefined, {
        param: 'api_server',
      });
  };

  return {
    async create(actor: Actor, body: CreateClusterBody): Promise<ClusterRow> {
      requirePlatformAdmin(actor.principal);
      await checkApiServer(body.api_server);
      const at = new Date();
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(clusters)
            .values({
              id: newId('kcl'),
              name: body.name,
              apiServer: body.api_server,
              caCert: body.ca_cert ?? null,
              tokenSealed: secrets.seal(body.token),
              namespace: body.namespace,
              gpuResource: body.gpu_resource,
              nodeSelector: body.node_selector,
              tolerations: body.tolerations,
              images: imagesOf(body.images),
              modelVolume: body.model_volume,
              serviceType: body.service_type,
              servicePort: body.service_port,
              tenantWorkloads: body.tenant_workloads,
              createdBy: actor.audit.actorId,
              createdAt: at,
              updatedAt: at,
            })
            .returning();
          await audit.append(tx, actor.audit, {
            orgId: null,
            action: 'cluster.create',
            target: { type: 'cluster', id: row!.id },
            after: toClusterDto(row!),
          });
          return row!;
        });
      } catch (err) {
        const code = (err as { code?: string; cause?: { code?: string } }).code;
        if (code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505')
          throw conflict(`a cluster named "${body.name}" already exists`);
        throw err;
      }
    },

    async list(p: Principal, limit: number, cursor?: string): Promise<ClusterRow[]> {
      requirePlatformAdmin(p);
      return db
        .select()
        .from(clusters)
        .where(cursor ? gt(clusters.id, cursor) : undefined)
        .orderBy(asc(clusters.id))
        .limit(limit + 1);
    },

    async get(p: Principal, id: string): Promise<ClusterRow> {
      requirePlatformAdmin(p, true);
      return find(db, id);
    },

    /** Changes settings or rotates the token; the next pass applies them to every deployment there. */
    async update(actor: Actor, id: string, body: UpdateClusterBody): Promise<ClusterRow> {
      requirePlatformAdmin(actor.principal, true);
      await find(db, id); // an unknown id is a 404 before any address is looked up
      if (body.api_server) await checkApiServer(body.api_server);
      const row = await db.transaction(async (tx) => {
        const before = await find(tx, id);
        const set: Partial<typeof clusters.$inferInsert> = { updatedAt: new Date() };
        if (body.api_server !== undefined) set.apiServer = body.api_server;
        if (body.ca_cert !== undefined) set.caCert = body.ca_cert;
        if (body.token !== undefined) set.tokenSealed = secrets.seal(body.token);
        if (body.gpu_resource !== undefined) set.gpuResource = body.gpu_resource;
        if (body.node_selector !== undefined) set.nodeSelector = body.node_selector;
        if (body.tolerations !== undefined) set.tolerations = body.tolerations;
        if (body.images !== undefined) set.images = imagesOf(body.images);
        if (body.model_volume !== undefined) set.modelVolume = body.model_volume;
        if (body.service_type !== undefined) set.serviceType = body.service_type;
        if (body.service_port !== undefined) set.servicePort = body.service_port;
        if (body.tenant_workloads !== undefined) set.tenantWorkloads = body.tenant_workloads;
        const [after] = await tx.update(clusters).set(set).where(eq(clusters.id, id)).returning();
        await audit.append(tx, actor.audit, {
          orgId: null,
          action: body.token !== undefined ? 'cluster.rotate_token' : 'cluster.update',
          target: { type: 'cluster', id },
          before: toClusterDto(before),
          after: toClusterDto(after!),
        });
        return after!;
      });
      deps.kick();
      return row;
    },

    /** Removes a cluster no deployment is placed on (delete or move them first). */
    async remove(actor: Actor, id: string): Promise<void> {
      requirePlatformAdmin(actor.principal, true);
      await db.transaction(async (tx) => {
        const before = await find(tx, id);
        const [used] = await tx
          .select({ id: deployments.id })
          .from(deployments)
          .where(sql`${deployments.placement}->>'cluster' = ${id}`)
          .limit(1);
        if (used) throw conflict('deployments are placed on this cluster: delete them first');
        await tx.delete(clusters).where(eq(clusters.id, id));
        await audit.append(tx, actor.audit, {
          orgId: null,
          action: 'cluster.delete',
          target: { type: 'cluster', id },
          before: toClusterDto(before),
        });
      });
      deps.kick();
    },

    /**
     * The cluster a deployment may be placed on, by id or name: it must exist and, for a tenant's
     * spec, be open to tenants (a tenant learns neither way which of the two it was); its runtime
     * must be one a cluster runs, and its source an hf:// repo or (admins) a path in the pod.
     */
    async resolvePlacement(p: Principal, ref: string, spec: DeploymentSpec): Promise<string> {
      const [row] = await db
        .select()
        .from(clusters)
        .where(or(eq(clusters.id, ref), eq(clusters.name, ref)));
      if (!row || (!isAdmin(p) && !row.tenantWorkloads))
        throw new AppError('unprocessable', `no cluster "${ref}" is open to this deployment`, undefined, {
          param: 'placement.cluster',
        });
      if (!CLUSTER_RUNTIMES.includes(spec.runtime))
        throw new AppError(
          'unprocessable',
          `a Kubernetes cluster runs ${CLUSTER_RUNTIMES.join(' and ')}, not ${spec.runtime}`,
          undefined,
          { param: 'runtime' },
        );
      if (!spec.source.startsWith('hf://') && !isLocalSource(spec.source))
        throw new AppError(
          'unprocessable',
          'a Kubernetes cluster runs hf:// sources (or, for platform admins, a path on its model volume)',
          undefined,
          { param: 'source' },
        );
      return row.id;
    },
  };
}

export type ClusterService = ReturnType<typeof createClusterService>;
