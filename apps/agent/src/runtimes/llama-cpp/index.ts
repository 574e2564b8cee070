import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv, parameterFlags, presetParameters, REPLICA_KEY_ENV, replicaKey } from '@maas/contracts/agent';
import type { RuntimeAdapter } from '../types.ts';

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const serverSource = here('serve.ts');

let bundled: string | null | undefined;

/** A file we may execute: a regular file of ours that no one else can write. */
function ours(path: string): boolean {
  try {
    const st = lstatSync(path);
    const uid = process.getuid?.();
    return st.isFile() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * The runtime server as one plain ES module (bare imports pinned to this install's files), built
 * once per source version with esbuild: node starts it in about half the time it takes under
 * tsx's loader, which hooks each of node-llama-cpp's modules. It lives in the agent's data
 * directory (`runtime-bundles/`, 0700; the file 0600), never at a shared path another user could
 * plant a file at. Null when esbuild is unavailable.
 */
async function bundledServer(dataDir: string): Promise<string | null> {
  if (bundled !== undefined) return bundled;
  try {
    const digest = createHash('sha256');
    for (const f of ['serve.ts', 'chat-completions.ts']) digest.update(readFileSync(here(f)));
    const dir = join(dataDir, 'runtime-bundles');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const out = join(dir, `llama-serve-${digest.digest('hex').slice(0, 12)}.mjs`);
    if (!ours(out)) {
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
      chmodSync(tmp, 0o600);
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
  prepare: async ({ dataDir }) => {
    await bundledServer(dataDir);
  },
  launch(input) {
    const r = input.replica;
    const p = presetParameters(input);
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
        ...parameterFlags(p, { threads: '--threads', parallel: '--parallel' }),
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
