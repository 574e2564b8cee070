import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';

export const MANIFEST_NAME = 'manifest.json';

const entry = z.object({
  path: z.string().min(1),
  bytes: z.number().int().min(0),
  sha256: z.string().length(64),
});

/** `manifest.json`, the first entry of every backup archive. */
export const manifestSchema = z.object({
  format: z.literal('maas-backup'),
  formatVersion: z.literal(1),
  createdAt: z.string(),
  versions: z.object({
    maas: z.string(),
    node: z.string(),
    /** PostgreSQL server and pg_dump, or PGlite (its data directory format follows its PostgreSQL major) */
    database: z.record(z.string(), z.string()),
  }),
  driver: z.enum(['pglite', 'postgres']),
  migrations: z.object({
    level: z.string().nullable(),
    /** `created_at` of every applied migration (drizzle's journal `when`) */
    applied: z.array(z.number()),
  }),
  /** rows per table at the snapshot (the same snapshot as the dump) */
  rowCounts: z.record(z.string(), z.number().int().min(0)),
  files: z.object({
    store: z.enum(['local', 's3']),
    count: z.number().int().min(0),
    note: z.string().optional(),
  }),
  secretKey: z.object({ source: z.enum(['env', 'file']) }),
  entries: z.array(entry),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestEntry = z.infer<typeof entry>;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Every regular file under `root`, with its size and checksum, paths relative with `/`. */
export async function listEntries(root: string): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  const walk = async (dir: string) => {
    for (const item of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, item.name);
      if (item.isDirectory()) await walk(path);
      else if (item.isFile()) {
        const rel = relative(root, path).split(sep).join('/');
        if (rel === MANIFEST_NAME) continue;
        out.push({ path: rel, bytes: (await stat(path)).size, sha256: await sha256File(path) });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
