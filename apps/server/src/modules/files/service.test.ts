import { Readable } from 'node:stream';
import { createScratchDatabase, testDatabaseUrl } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/client.ts';
import { orgs, projects } from '../identity/schema.ts';
import { fileStorageUsage, files } from './schema.ts';
import { createFilesService, type FilesServiceDeps, type PendingUpload } from './service.ts';
import { createLocalDiskStorage } from './storage/local-disk.ts';
import type { FileStorage } from './storage/types.ts';

const log = pino({ level: 'silent' });
const MiB = 1024 * 1024;

let database: Database;
let drop: () => Promise<void>;
let n = 0;

beforeAll(async () => {
  const base = testDatabaseUrl();
  if (base) {
    const scratch = await createScratchDatabase(base);
    database = await openDatabase({ databaseUrl: scratch.url, poolSize: 8 });
    drop = async () => {
      await database.close();
      await scratch.drop();
    };
  } else {
    database = await openDatabase({ dataDir: 'memory://' });
    drop = () => database.close();
  }
  await database.migrate();
}, 60_000);

afterAll(async () => {
  await drop?.();
});

/** a fresh org and project */
async function tenant() {
  n += 1;
  const orgId = `org_filestest_${n}`;
  const projectId = `prj_filestest_${n}`;
  await database.db.insert(orgs).values({ id: orgId, name: orgId, slug: orgId });
  await database.db.insert(projects).values({ id: projectId, orgId, name: 'p' });
  return { orgId, projectId };
}

async function usage(orgId: string) {
  const [row] = await database.db.select().from(fileStorageUsage).where(eq(fileStorageUsage.orgId, orgId));
  return row?.bytes ?? 0;
}

async function service(overrides: Partial<FilesServiceDeps> = {}) {
  return createFilesService({
    db: database.db,
    log,
    storage: await createLocalDiskStorage('memory://'),
    maxBytes: 4 * MiB,
    orgQuotaBytes: 10 * MiB,
    sweepIntervalMs: 0,
    ...overrides,
  });
}

const body = (bytes: number) => Readable.from([Buffer.alloc(bytes, 1)]);

describe('files service', () => {
  it('never grants more than the quota to concurrent uploads', async () => {
    const svc = await service();
    const scope = await tenant();
    const begun = await Promise.allSettled(
      Array.from({ length: 8 }, () => svc.begin({ ...scope, filename: 'x', sizeHint: 3 * MiB })),
    );
    const granted = begun.filter((r) => r.status === 'fulfilled');
    // 3 MiB each: three fit in 10 MiB, and the fourth gets the last 1 MiB
    expect(granted).toHaveLength(4);
    expect(await usage(scope.orgId)).toBe(10 * MiB);
    for (const r of begun) {
      if (r.status === 'rejected')
        expect(r.reason).toMatchObject({ code: 'storage_quota_exceeded', status: 413 });
    }
    // the one granted 1 MiB may store 1 MiB, not more
    const uploads = granted.map((r) => (r as PromiseFulfilledResult<PendingUpload>).value);
    const rows = await database.db.select().from(files).where(eq(files.orgId, scope.orgId));
    const small = uploads.find((u) => rows.find((r) => r.id === u.id)?.reservedBytes === MiB);
    await expect(small!.write(body(MiB + 1))).rejects.toMatchObject({ code: 'storage_quota_exceeded' });
    for (const upload of uploads) await upload.abort();
    expect(await usage(scope.orgId)).toBe(0);
    await svc.stop();
  });

  it('settles the reservation to the size actually stored', async () => {
    const svc = await service();
    const scope = await tenant();
    const row = await svc.create({
      ...scope,
      purpose: 'batch_output',
      filename: 'o.jsonl',
      body: body(1000),
    });
    expect(row).toMatchObject({
      bytes: 1000,
      reservedBytes: 1000,
      status: 'processed',
      purpose: 'batch_output',
    });
    expect(row.expiresAt).toBeNull();
    expect(await usage(scope.orgId)).toBe(1000);
    await svc.remove(scope, row.id);
    expect(await usage(scope.orgId)).toBe(0);
    await svc.stop();
  });

  it('keeps nothing when the storage fails, and throws the storage error (not a 400)', async () => {
    const real = await createLocalDiskStorage('memory://');
    const broken: FileStorage = {
      ...real,
      async put(_key, stream) {
        // reads a little, then the disk "fills up"
        for await (const _chunk of stream)
          throw Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' });
        return { bytes: 0 };
      },
    };
    const svc = await service({ storage: broken });
    const scope = await tenant();
    const err = await svc
      .create({ ...scope, purpose: 'batch', filename: 'a', body: body(2 * MiB) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOSPC' });
    expect(await database.db.select().from(files).where(eq(files.orgId, scope.orgId))).toEqual([]);
    expect(await usage(scope.orgId)).toBe(0);
    await svc.stop();
  });

  it('throws the body’s own error when the body fails', async () => {
    const svc = await service();
    const scope = await tenant();
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(svc.create({ ...scope, purpose: 'batch', filename: 'a', body: failing })).rejects.toThrow(
      'client went away',
    );
    expect(await usage(scope.orgId)).toBe(0);
    await svc.stop();
  });

  it('rejects unknown purposes and bad expiries before storing anything', async () => {
    const svc = await service();
    const scope = await tenant();
    await expect(
      svc.create({ ...scope, purpose: 'nope', filename: 'a', body: body(1) }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'purpose',
    });
    await expect(
      svc.create({ ...scope, purpose: 'batch', filename: 'a', body: body(1), expiresAfterSeconds: 10 }),
    ).rejects.toMatchObject({ status: 400, param: 'expires_after[seconds]' });
    expect(await usage(scope.orgId)).toBe(0);
    await svc.stop();
  });

  it('sweeps the files of a deleted project and gives their quota back', async () => {
    const storage = await createLocalDiskStorage('memory://');
    const svc = await service({ storage });
    const scope = await tenant();
    const sibling = `${scope.projectId}_sibling`;
    await database.db.insert(projects).values({ id: sibling, orgId: scope.orgId, name: 'sibling' });
    const gone = await svc.create({ ...scope, purpose: 'batch', filename: 'g', body: body(100) });
    const kept = await svc.create({
      ...scope,
      projectId: sibling,
      purpose: 'batch',
      filename: 'k',
      body: body(7),
    });
    await database.db.delete(projects).where(eq(projects.id, scope.projectId));
    expect(await usage(scope.orgId)).toBe(107);
    expect(await svc.sweep()).toEqual({ deleted: 1 });
    expect(await usage(scope.orgId)).toBe(7);
    await expect(storage.get(gone.id)).rejects.toMatchObject({ name: 'StoredObjectMissingError' });
    expect((await svc.get({ ...scope, projectId: sibling }, kept.id)).id).toBe(kept.id);
    await svc.stop();
  });

  it('sweeps expired files, uploads a crash left behind and deletes that failed halfway', async () => {
    let now = Date.now();
    const storage = await createLocalDiskStorage('memory://');
    const svc = await service({ storage, now: () => now, staleUploadMs: 3_600_000 });
    const scope = await tenant();
    const expiring = await svc.create({
      ...scope,
      purpose: 'user_data',
      filename: 'e',
      body: body(10),
      expiresAfterSeconds: 3600,
    });
    const kept = await svc.create({ ...scope, purpose: 'user_data', filename: 'k', body: body(20) });
    const stale = await svc.begin({ ...scope, filename: 's', sizeHint: 100 });
    await stale.write(body(50));
    // a delete whose bytes could not be removed at the time
    const half = await svc.create({ ...scope, purpose: 'user_data', filename: 'h', body: body(30) });
    await database.db.update(files).set({ status: 'deleting' }).where(eq(files.id, half.id));
    expect(await usage(scope.orgId)).toBe(10 + 20 + 100 + 30);

    now += 2 * 3_600_000;
    expect(await svc.sweep()).toEqual({ deleted: 3 });
    const left = await database.db.select().from(files).where(eq(files.orgId, scope.orgId));
    expect(left.map((r) => r.id)).toEqual([kept.id]);
    expect(await usage(scope.orgId)).toBe(20);
    for (const id of [expiring.id, stale.id, half.id]) {
      await expect(storage.get(id)).rejects.toMatchObject({ name: 'StoredObjectMissingError' });
    }
    await svc.stop();
  });
});
