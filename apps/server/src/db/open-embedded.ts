import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ensurePrivateDir, tightenTree } from '../private-dir.ts';
import { PgliteThread } from './pglite-thread.ts';

export class DataDirLockedError extends Error {}

/** An embedded database whose thread has opened its directory, the directory's lock held. */
export interface EmbeddedDatabase {
  /** the data directory it was opened for (`memory://…` in memory) */
  dataDir: string;
  thread: PgliteThread;
  /** told when the thread died and the directory is being opened again (set by whoever logs) */
  onRestart: (cause: Error) => void;
  /** closes the thread, tightens the directory's modes and gives the lock back */
  close(): Promise<void>;
}

/**
 * Takes the data directory's lock, then opens PGlite on its thread. Only this module's imports
 * are needed, not the server's: `maas serve` starts it before it loads the rest, so that compiling
 * PostgreSQL's WASM and opening the directory run meanwhile. The lock comes first, always: two
 * processes on one PGlite directory would corrupt it, so the second is refused (DataDirLockedError).
 */
export async function openEmbedded(dataDir: string): Promise<EmbeddedDatabase> {
  let release: (() => Promise<void>) | undefined;
  let dir: string | undefined;
  if (!dataDir.startsWith('memory://')) {
    ensurePrivateDir(dataDir);
    dir = join(dataDir, 'pgdata');
    ensurePrivateDir(dir);
    try {
      release = await lockfile.lock(dir, { stale: 15_000, update: 5_000, realpath: false });
    } catch {
      throw new DataDirLockedError(
        `data directory ${dataDir} is in use by another maas process (only one process may open an embedded database; use DATABASE_URL for several)`,
      );
    }
  }
  const embedded: EmbeddedDatabase = {
    dataDir,
    thread: new PgliteThread(dir, (cause) => embedded.onRestart(cause)),
    onRestart: () => {},
    close: async () => {
      await embedded.thread.close();
      if (dir) tightenTree(dir);
      await release?.();
    },
  };
  try {
    await embedded.thread.waitReady;
    if (dir) tightenTree(dir);
  } catch (err) {
    await embedded.thread.close();
    await release?.();
    throw err;
  }
  return embedded;
}
