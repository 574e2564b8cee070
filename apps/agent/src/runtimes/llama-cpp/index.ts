import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeAdapter } from '../types.ts';
import { gpuEnv, REPLICA_KEY_ENV, replicaKey } from '../types.ts';

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const serverSource = here('serve.ts');

let bundled: string | null | undefined;

/**
 * The runtime server as one plain ES module (bare imports pinned to this install's files), built
 * once per source version with esbuild: node starts it in about half the time it takes under
 * tsx's loader, which hooks each of node-llama-cpp's modules. Null when esbuild is unavailable.
 */
async function bundledServer(): Promise<string | null> {
  if (bundled !== undefined) return bundled;
  try {
    const digest = createHash('sha256');
    for (const f of ['serve.ts', 'chat-completions.ts']) digest.update(readFileSync(here(f)));
    const out = join(tmpdir(), `maas-llama-serve-${digest.digest('hex').slice(0, 12)}.mjs`);
    if (!existsSync(out)) {
      const { build } = await import('esbuild');
      const tmp = `${out}.${process.pid}.tmp`;
      await build({
        entryPoints: [serverSource],
        outfile: tmp,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel: 'error',
        plugins: [
          {
            name: 'pin-packages',
            setup(b) {
              b.onResolve({ filter: /^[^./]/ }, (args) => ({
                path: args.path.startsWith('node:') ? args.path : import.meta.resolve(args.path),
                external: true,
              }));
            },
          },
        ],
      });
      renameSync(tmp, out);
    }
    bundled = out;
  } catch {
    bundled = null;
  }
  return bundled;
}

/**
 * GGUF through node-llama-cpp's prebuilt llama.cpp, behind a small OpenAI-compatible server
 * (./serve.ts) in its own process. CPU when the replica has no GPU; llama.cpp never builds or
 * downloads anything at run time.
 */
export const llamaCppRuntime: RuntimeAdapter = {
  name: 'llama-cpp',
  available: async () => {
    try {
      import.meta.resolve('node-llama-cpp');
      return true;
    } catch {
      return false;
    }
  },
  prepare: async () => {
    await bundledServer();
  },
  launch(input) {
    const r = input.replica;
    const script = bundled ? [bundled] : ['--import', import.meta.resolve('tsx'), serverSource];
    return {
      command: process.execPath,
      args: [
        ...script,
        '--model',
        input.modelPath,
        '--name',
        r.model_name,
        '--host',
        input.host,
        '--port',
        String(r.port),
        '--gpu',
        r.gpu_indexes.length > 0 ? 'auto' : 'false',
        ...(r.context_length ? ['--ctx', String(r.context_length)] : []),
        ...r.runtime_args,
      ],
      env: {
        ...gpuEnv(input),
        NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true',
        ...r.env,
        // serve.ts requires it as `Authorization: Bearer …` on everything but /health
        [REPLICA_KEY_ENV]: replicaKey(input),
      },
      port: r.port,
      healthPath: '/health',
      apiPath: '/v1',
    };
  },
};
