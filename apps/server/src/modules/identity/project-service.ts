import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import { conflict, notFound } from '../../http/app-error.ts';
import type { Principal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { AuditContext, AuditService } from '../audit/index.ts';
import type { OrgService } from './org-service.ts';
import { projects } from './schema.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  orgs: OrgService;
}

export interface ProjectInput {
  name?: string | undefined;
  description?: string | null | undefined;
}

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string })?.code === '23505' ||
  (err as { cause?: { code?: string } })?.cause?.code === '23505';

export function createProjectService({ db, audit, orgs }: Deps) {
  async function find(tx: DbOrTx, orgId: string, id: string) {
    const [row] = await tx
      .select()
      .from(projects)
      .where(and(eq(projects.id, id), eq(projects.orgId, orgId)));
    if (!row) throw notFound('project');
    return row;
  }

  return {
    /** For other modules: the project, if it belongs to the org; otherwise a 404. */
    requireProject: find,

    async list(p: Principal, limit: number, cursor?: string) {
      return db
        .select()
        .from(projects)
        .where(and(eq(projects.orgId, p.orgId), cursor ? gt(projects.id, cursor) : undefined))
        .orderBy(asc(projects.id))
        .limit(limit + 1);
    },

    async get(p: Principal, id: string) {
      return find(db, p.orgId, id);
    },

    async create(p: Principal, input: { name: string; description?: string | undefined }, ctx: AuditContext) {
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(projects)
            .values({
              id: newId('prj'),
              orgId: p.orgId,
              name: input.name,
              description: input.description ?? null,
            })
            .returning();
          await audit.append(tx, ctx, {
            orgId: p.orgId,
            action: 'project.create',
            target: { type: 'project', id: row!.id },
            after: row,
          });
          return row!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a project named "${input.name}" already exists`);
        throw err;
      }
    },

    async update(p: Principal, id: string, input: ProjectInput, ctx: AuditContext) {
      await find(db, p.orgId, id);
      try {
        return await db.transaction(async (tx) => {
          const before = await find(tx, p.orgId, id);
          const [after] = await tx
            .update(projects)
            .set({
              ...(input.name !== undefined ? { name: input.name } : {}),
              ...(input.description !== undefined ? { description: input.description } : {}),
              updatedAt: new Date(),
            })
            .where(eq(projects.id, id))
            .returning();
          await audit.append(tx, ctx, {
            orgId: p.orgId,
            action: 'project.update',
            target: { type: 'project', id },
            before,
            after,
          });
          return after!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a project named "${input.name}" already exists`);
        throw err;
      }
    },

    async remove(p: Principal, id: string, ctx: AuditContext) {
      await find(db, p.orgId, id);
      const announce = await db.transaction(async (tx) => {
        const before = await find(tx, p.orgId, id);
        const announce = await orgs.announceKeysGone(tx, { projectId: id });
        await tx.delete(projects).where(eq(projects.id, id));
        await audit.append(tx, ctx, {
          orgId: p.orgId,
          action: 'project.delete',
          target: { type: 'project', id },
          before,
        });
        return announce;
      });
      await announce();
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
