import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates `dir` (and its parents) owner-only, and takes group and other access away from one that
 * already exists: what maas keeps on disk (database, secret key, usage spool) is for its own user.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Takes group and other access away from every file and directory under `dir`. PGlite's file
 * system layer sets the modes PostgreSQL asks for (0666 for some files) with an explicit chmod,
 * past the umask: the owner-only directory already keeps others out, and this keeps copies that
 * preserve modes (backups, `cp -a`) owner-only too.
 */
export function tightenTree(dir: string): void {
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o700);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
}
