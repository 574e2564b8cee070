import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Durable background jobs. A worker claims a queued row with `FOR UPDATE SKIP LOCKED`, holds it by
 * a lease (`lease_until`, extended by heartbeats) and records the outcome; a lease that runs out
 * (the process died) puts the job back in the queue for any worker. `org_id` is a plain column (no
 * foreign key): jobs outlive nothing but are read by queue, and system jobs have no org.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    orgId: text('org_id'),
    /** queued | running | succeeded | failed | cancelling | cancelled */
    status: text('status').notNull().default('queued'),
    priority: integer('priority').notNull().default(0),
    payload: jsonb('payload').$type<unknown>().notNull(),
    result: jsonb('result').$type<unknown>(),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    runAt: ts('run_at').notNull().defaultNow(),
    leaseUntil: ts('lease_until'),
    lockedBy: text('locked_by'),
    progress: jsonb('progress').$type<unknown>(),
    dedupeKey: text('dedupe_key'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    // the claim: ready jobs of one queue, best first
    index('jobs_claim_idx').on(t.queue, t.priority.desc(), t.runAt, t.id).where(sql`status = 'queued'`),
    // the reaper and per-org counts: jobs that hold a lease
    index('jobs_leased_idx')
      .on(t.queue, t.orgId, t.leaseUntil)
      .where(sql`status in ('running', 'cancelling')`),
    uniqueIndex('jobs_dedupe_idx').on(t.queue, t.dedupeKey),
    index('jobs_org_idx').on(t.orgId, t.id),
    // a project's async jobs, newest first (the key's project is in the payload's principal)
    index('jobs_org_project_idx').on(
      t.orgId,
      t.queue,
      sql`(payload #>> '{principal,projectId}')`,
      t.id.desc(),
    ),
  ],
);
