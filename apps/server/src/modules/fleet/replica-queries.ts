import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { type ReplicaRow, replicas } from './schema.ts';

/** Replicas of the caller's org. */
export function createReplicaQueries(db: Db) {
  return {
    async listReplicas(
      p: Principal,
      filter: { deploymentId?: string | undefined; nodeId?: string | undefined },
      limit: number,
      cursor?: string,
    ): Promise<ReplicaRow[]> {
      const where: SQL[] = [eq(replicas.orgId, p.orgId)];
      if (filter.deploymentId) where.push(eq(replicas.deploymentId, filter.deploymentId));
      if (filter.nodeId) where.push(eq(replicas.nodeId, filter.nodeId));
      if (cursor) where.push(lt(replicas.id, cursor));
      return db
        .select()
        .from(replicas)
        .where(and(...where))
        .orderBy(desc(replicas.id))
        .limit(limit + 1);
    },

    async getReplica(p: Principal, id: string): Promise<ReplicaRow> {
      const [row] = await db
        .select()
        .from(replicas)
        .where(and(eq(replicas.id, id), eq(replicas.orgId, p.orgId)));
      if (!row) throw notFound('replica');
      return row;
    },
  };
}
