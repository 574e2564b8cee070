import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ensurePrivateDir } from '../../../private-dir.ts';
import { type ByteRange, type FileStorage, StoredObjectMissingError } from './types.ts';

const KEY = /^[0-9A-Za-z_-]{1,128}$/;
const PARTIAL = '.partial-';

/**
 * Files on local disk: `<data dir>/files/<key>`, the directory 0700 and each file 0600. A body is
 * written to a partial file and renamed into place, so a reader never sees half a file. With an
 * in-memory data dir (`memory://`) the files go to a fresh scratch directory removed on close.
 */
export type LocalDiskStorage = FileStorage & { readonly dir: string };

export async function createLocalDiskStorage(dataDir: string): Promise<LocalDiskStorage> {
  const scratch = dataDir.startsWith('memory://');
  const dir = scratch ? await mkdtemp(join(tmpdir(), 'maas-files-')) : join(dataDir, 'files');
  ensurePrivateDir(dir);
  const pathOf = (key: string) => {
    // keys are maas's own ids; anything else never reaches the file system
    if (!KEY.test(key)) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
    return join(dir, key);
  };
  return {
    kind: 'local',
    dir,
    async put(key, body) {
      const target = pathOf(key);
      const partial = `${target}${PARTIAL}${randomBytes(6).toString('hex')}`;
      try {
        await pipeline(body, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
        const { size } = await stat(partial);
        await rename(partial, target);
        return { bytes: size };
      } catch (err) {
        await unlink(partial).catch(() => {});
        throw err;
      }
    },
    async get(key, range?: ByteRange) {
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(pathOf(key), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StoredObjectMissingError(key);
        throw err;
      }
      return handle.createReadStream({ start: range?.start, end: range?.end, autoClose: true });
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async close() {
      if (scratch) await rm(dir, { recursive: true, force: true });
    },
    async sweepPartials(olderThanMs: number) {
      const cutoff = Date.now() - olderThanMs;
      for (const name of await readdir(dir)) {
        if (!name.includes(PARTIAL)) continue;
        const path = join(dir, name);
        const st = await stat(path).catch(() => null);
        if (st && st.mtimeMs < cutoff) await rm(path, { force: true });
      }
    },
  };
}
