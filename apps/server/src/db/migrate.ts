import type { Logger } from 'pino';
import { NewerSchemaError, type RunQuery, readSchemaLevel, type SchemaLevel } from './schema-level.ts';

/**
 * Every maas process that migrates a PostgreSQL database takes this session-level advisory lock
 * first (`maas migrate`, the Helm hook Job, each `maas serve` at start), so two never migrate at
 * once: the second waits, then finds nothing pending.
 */
export const MIGRATION_LOCK_KEY = '7305146286416218177';

export interface MigrationResult {
  /** tags applied by this call (empty when the schema was already current) */
  applied: string[];
  /** the newest migration the database has now */
  level: string | null;
}

/**
 * Applies this build's pending migrations with `apply`, after checking that the database has none
 * this build does not know (else NewerSchemaError, and nothing is touched). `query` and `apply`
 * must run on the session that holds the lock, when there is one.
 */
export async function migrateChecked(query: RunQuery, apply: () => Promise<void>): Promise<MigrationResult> {
  const before = await readSchemaLevel(query);
  if (before.unknown.length > 0) throw new NewerSchemaError(before.unknown);
  // a current schema (every start but an upgrade's) is one read
  if (before.pending.length === 0) return { applied: [], level: before.level };
  await apply();
  const after = await readSchemaLevel(query, before.known);
  return { applied: before.pending.map((m) => m.tag), level: after.level };
}

/** `migrateChecked` under the advisory lock, on one connection that holds it throughout. */
export async function migrateLocked(
  lockQuery: RunQuery,
  query: RunQuery,
  apply: () => Promise<void>,
): Promise<MigrationResult> {
  await lockQuery(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  try {
    return await migrateChecked(query, apply);
  } finally {
    await lockQuery(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => {});
  }
}

/** Errors that mean the database is not reachable yet (starting, restarting, DNS not ready). */
export function isUnreachable(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '57P03'].includes(
      code,
    ) ||
    code.startsWith('08') ||
    /Connection terminated|timeout expired/i.test(String((err as Error)?.message))
  );
}

export interface WaitOptions {
  timeoutMs: number;
  log: Pick<Logger, 'info' | 'warn'>;
  /** between checks (default 1 s) */
  everyMs?: number;
}

export class SchemaWaitTimeoutError extends Error {}

/**
 * `MAAS_MIGRATE=wait`: waits until another process (`maas migrate`, the Helm hook Job) has
 * brought the database to this build's schema, while the database may still be starting. A newer
 * schema fails at once; after `timeoutMs` it gives up with SchemaWaitTimeoutError.
 */
export async function waitForSchema(
  readLevel: () => Promise<SchemaLevel>,
  { timeoutMs, log, everyMs = 1_000 }: WaitOptions,
): Promise<SchemaLevel> {
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    let why: string;
    try {
      const level = await readLevel();
      if (level.unknown.length > 0) throw new NewerSchemaError(level.unknown);
      if (level.pending.length === 0) {
        if (lastLog > 0) log.info({ level: level.level }, 'the database schema is current; starting');
        return level;
      }
      why = `${level.pending.length} of ${level.known.length} migrations not applied yet (next: ${level.pending[0]!.tag}); run \`maas migrate\``;
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      why = `the database is not reachable yet (${(err as Error).message})`;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      throw new SchemaWaitTimeoutError(
        `MAAS_MIGRATE=wait: the database schema did not become the one this build needs within ${Math.round(timeoutMs / 1000)} s: ${why}`,
      );
    }
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      log.warn(
        { waited_ms: waited, timeout_ms: timeoutMs },
        `MAAS_MIGRATE=wait: waiting for the database schema: ${why}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
