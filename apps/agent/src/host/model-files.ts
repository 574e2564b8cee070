import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFile } from '@maas/contracts/agent';

const MODEL_FILE = /\.(gguf|safetensors|bin|pt|pth)$/i;
export const DOWNLOAD_META = 'maas-source.json';

/**
 * Model files under the given directories (at most `depth` levels, `limit` files): GGUF and weight
 * files, and model directories (with a config.json). Completed downloads carry the source they
 * came from, so the scheduler can prefer nodes that already hold a model.
 */
export async function scanModelFiles(dirs: string[], depth = 3, limit = 2000): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  const walk = async (dir: string, level: number, source: string | undefined): Promise<void> => {
    if (out.length >= limit) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const meta = entries.some((e) => e.name === DOWNLOAD_META)
      ? await readFile(join(dir, DOWNLOAD_META), 'utf8').then(
          (t) => (JSON.parse(t) as { source?: string }).source,
          () => undefined,
        )
      : source;
    if (entries.some((e) => e.name === 'config.json')) {
      out.push({ path: dir, size: 0, ...(meta ? { source: meta } : {}) });
    }
    for (const e of entries) {
      if (out.length >= limit) return;
      const path = join(dir, e.name);
      if (e.isDirectory() && level < depth) await walk(path, level + 1, meta);
      else if (e.isFile() && MODEL_FILE.test(e.name)) {
        const size = (await stat(path).catch(() => null))?.size ?? 0;
        out.push({ path, size, ...(meta ? { source: meta } : {}) });
      }
    }
  };
  for (const dir of dirs) await walk(dir, 0, undefined);
  return out;
}
