import { ROLES } from '@maas/contracts';
import { sql } from 'drizzle-orm';
import { foreignKey, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { memberships, orgs, projects } from './schema.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** An org's own role: a named set of permissions from the catalogue (http/permissions.ts). */
export const customRoles = pgTable(
  'custom_roles',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    permissions: jsonb('permissions').$type<string[]>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('custom_roles_org_name_uq').on(t.orgId, t.name)],
);

/**
 * A member's role beyond the membership's built-in one: with no project, a custom org role (it
 * replaces the built-in role's permissions); with a project, a role in that project only (added to
 * the org's). Exactly one of `role` (a built-in template) and `roleId` is set.
 */
export const roleAssignments = pgTable(
  'role_assignments',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    userId: text('user_id').notNull(),
    projectId: text('project_id').references(() => projects.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }),
    roleId: text('role_id').references(() => customRoles.id, { onDelete: 'restrict' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // leaving the org ends every assignment in it
    foreignKey({
      columns: [t.orgId, t.userId],
      foreignColumns: [memberships.orgId, memberships.userId],
      name: 'role_assignments_membership_fk',
    }).onDelete('cascade'),
    uniqueIndex('role_assignments_org_user_uq').on(t.orgId, t.userId).where(sql`${t.projectId} is null`),
    uniqueIndex('role_assignments_project_user_uq')
      .on(t.projectId, t.userId)
      .where(sql`${t.projectId} is not null`),
    index('role_assignments_role_idx').on(t.roleId),
  ],
);
