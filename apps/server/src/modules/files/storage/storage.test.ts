import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from '../../../../test/support/s3-server.ts';
import { createLocalDiskStorage, type LocalDiskStorage } from './local-disk.ts';
import { createS3Storage } from './s3.ts';
import type { FileStorage } from './types.ts';

const collect = async (body: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** A body that yields `good` bytes in small chunks, then fails as a client gone mid-upload would. */
function failingBody(good: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= good) {
        this.destroy(new Error('client went away'));
        return;
      }
      const n = Math.min(64 * 1024, good - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

function contract(name: string, make: () => Promise<FileStorage>, keys: () => Promise<string[]>) {
  describe(name, () => {
    let storage: FileStorage;
    beforeAll(async () => {
      storage = await make();
    });
    afterAll(async () => {
      await storage?.close();
    });

    it('stores a streamed body and gives it back whole or by range', async () => {
      const data = randomBytes(9 * 1024 * 1024 + 17);
      const body = Readable.from(
        (function* () {
          for (let i = 0; i < data.length; i += 1024 * 1024) yield data.subarray(i, i + 1024 * 1024);
        })(),
      );
      expect(await storage.put('file-a', body)).toEqual({ bytes: data.length });
      expect((await collect(await storage.get('file-a'))).equals(data)).toBe(true);
      expect(await collect(await storage.get('file-a', { start: 5, end: 14 }))).toEqual(data.subarray(5, 15));
      expect(await collect(await storage.get('file-a', { start: data.length - 3 }))).toEqual(
        data.subarray(data.length - 3),
      );
    });

    it('stores an empty body', async () => {
      expect(await storage.put('file-empty', Readable.from([]))).toEqual({ bytes: 0 });
      expect((await collect(await storage.get('file-empty'))).length).toBe(0);
      await storage.delete('file-empty');
    });

    it('says when nothing is stored, and deleting nothing is no error', async () => {
      await expect(storage.get('file-missing')).rejects.toMatchObject({ name: 'StoredObjectMissingError' });
      await storage.delete('file-missing');
      await storage.delete('file-a');
      await expect(storage.get('file-a')).rejects.toMatchObject({ name: 'StoredObjectMissingError' });
    });

    it('keeps nothing of a body that fails midway', async () => {
      await expect(storage.put('file-broken', failingBody(12 * 1024 * 1024))).rejects.toThrow(
        /client went away/,
      );
      await expect(storage.get('file-broken')).rejects.toMatchObject({ name: 'StoredObjectMissingError' });
      expect(await keys()).toEqual([]);
    });
  });
}

let local: LocalDiskStorage | undefined;
contract(
  'local disk storage',
  async () => {
    local = await createLocalDiskStorage('memory://');
    return local;
  },
  async () => readdirSync(local!.dir),
);

describe('local disk storage on disk', () => {
  it('refuses keys that could name a path', async () => {
    const storage = await createLocalDiskStorage('memory://');
    try {
      for (const key of ['../x', 'a/b', '', '.', '..', 'a\u0000b']) {
        await expect(storage.put(key, Readable.from([Buffer.from('x')]))).rejects.toThrow(
          /invalid storage key/,
        );
        await expect(storage.get(key)).rejects.toThrow(/invalid storage key/);
      }
      await storage.put('file-x', Readable.from([Buffer.from('x')]));
      expect(statSync(storage.dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(storage.dir, 'file-x')).mode & 0o777).toBe(0o600);
    } finally {
      await storage.close();
    }
    expect(() => statSync(storage.dir)).toThrow();
  });
});

describe('local disk storage in a data dir', () => {
  it('keeps files in <data dir>/files, owner-only, and leaves them on close', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maas-data-'));
    try {
      const storage = await createLocalDiskStorage(dataDir);
      expect(storage.dir).toBe(join(dataDir, 'files'));
      await storage.put('file-y', Readable.from([Buffer.from('y')]));
      await storage.close();
      expect(statSync(join(dataDir, 'files')).mode & 0o777).toBe(0o700);
      expect(statSync(join(dataDir, 'files', 'file-y')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

let s3: S3TestServer | undefined;
let s3Storage: FileStorage | undefined;
contract(
  'S3 storage (s3rver)',
  async () => {
    s3 = await startS3Server();
    s3Storage = createS3Storage({
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      prefix: 'p/',
    });
    return s3Storage;
  },
  async () => {
    const { ListObjectsV2Command, S3Client } = await import('@aws-sdk/client-s3');
    const client = new S3Client({
      endpoint: s3!.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3!.bucket }));
    client.destroy();
    return (listed.Contents ?? []).map((o) => o.Key!);
  },
);
afterAll(async () => {
  await s3?.close();
});
