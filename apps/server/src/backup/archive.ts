import { createWriteStream } from 'node:fs';
import { readdir, rename, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { MANIFEST_NAME } from './manifest.ts';

// tar is loaded by the backup commands only, never by the server they share this module with

/**
 * Packs `dir` into a gzip'd tar at `out`, `manifest.json` first, written owner-only (0600) under a
 * temporary name and renamed into place: a half-written archive never carries the final name.
 */
export async function writeArchive(dir: string, out: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n !== MANIFEST_NAME).sort();
  const partial = `${out}.partial-${process.pid}`;
  const { create } = await import('tar');
  try {
    await pipeline(
      create({ gzip: true, cwd: dir, portable: true }, [MANIFEST_NAME, ...names]),
      createWriteStream(partial, { mode: 0o600, flags: 'wx' }),
    );
    await rename(partial, out);
  } catch (err) {
    await unlink(partial).catch(() => {});
    throw err;
  }
}

/** Unpacks an archive into `dir` (entries outside it, links and devices are refused by tar). */
export async function readArchive(file: string, dir: string): Promise<void> {
  const { extract } = await import('tar');
  await extract({
    file,
    cwd: dir,
    strict: true,
    // a backup holds plain files and directories only
    filter: (_path, entry) => 'type' in entry && (entry.type === 'File' || entry.type === 'Directory'),
  });
}
