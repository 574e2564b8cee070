import { and, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import type { KeyPrincipal } from '../../../http/principal.ts';
import type { ResponseRecord, ResponseStatus } from './response-object.ts';
import { type StoredResponseRow, storedResponses } from './schema.ts';

const OPEN: ResponseStatus[] = ['queued', 'in_progress'];

/** The responses table: a key sees only its own project's responses. */
export function createResponseStore(db: Db) {
  const owner = (key: KeyPrincipal, id: string) =>
    and(
      eq(storedResponses.id, id),
      eq(storedResponses.orgId, key.orgId),
      eq(storedResponses.projectId, key.projectId),
    );
  const record = (row: StoredResponseRow | undefined): ResponseRecord | null =>
    row ? { ...row, store: true } : null;

  return {
    async insert(r: ResponseRecord): Promise<void> {
      const { store: _store, ...row } = r;
      await db.insert(storedResponses).values(row);
    },

    /** the key's project's response, unexpired; null for any other (another org's included) */
    async find(key: KeyPrincipal, id: string): Promise<ResponseRecord | null> {
      const [row] = await db.select().from(storedResponses).where(owner(key, id)).limit(1);
      if (row && row.expiresAt.getTime() <= Date.now()) return null;
      return record(row);
    },

    async byId(id: string): Promise<ResponseRecord | null> {
      const [row] = await db.select().from(storedResponses).where(eq(storedResponses.id, id)).limit(1);
      return record(row);
    },

    async remove(key: KeyPrincipal, id: string): Promise<boolean> {
      const gone = await db
        .delete(storedResponses)
        .where(owner(key, id))
        .returning({ id: storedResponses.id });
      return gone.length > 0;
    },

    /** moves a response that is still queued or running on; null when it already ended */
    async advance(
      id: string,
      patch: Partial<Omit<StoredResponseRow, 'id' | 'orgId' | 'projectId'>>,
      from: ResponseStatus[] = OPEN,
    ): Promise<ResponseRecord | null> {
      const [row] = await db
        .update(storedResponses)
        .set(patch)
        .where(and(eq(storedResponses.id, id), inArray(storedResponses.status, from)))
        .returning();
      return record(row);
    },

    /** deletes responses past their retention; returns how many */
    async sweep(now = new Date()): Promise<number> {
      const gone = await db
        .delete(storedResponses)
        .where(lt(storedResponses.expiresAt, now))
        .returning({ id: storedResponses.id });
      return gone.length;
    },
  };
}

export type ResponseStore = ReturnType<typeof createResponseStore>;
