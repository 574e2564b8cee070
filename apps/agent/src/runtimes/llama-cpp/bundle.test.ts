import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { llamaCppRuntime } from './index.ts';

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

describe('the llama.cpp server bundle', () => {
  it("lives in the agent's data directory, owner-only, and replaces a file planted there", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maas-bundle-'));
    const digest = createHash('sha256');
    for (const f of ['serve.ts', 'chat-completions.ts']) digest.update(readFileSync(here(f)));
    const dir = join(dataDir, 'runtime-bundles');
    const out = join(dir, `llama-serve-${digest.digest('hex').slice(0, 12)}.mjs`);
    // a file others could have written (group/world-writable) is never executed as it is
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    writeFileSync(out, 'console.log("planted")');
    chmodSync(out, 0o666);

    await llamaCppRuntime.prepare!({ dataDir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).not.toContain('planted');
    const launch = llamaCppRuntime.launch({
      replica: {
        id: 'rep_1',
        deployment_id: 'dep_1',
        model_name: 'tiny',
        runtime: 'llama-cpp',
        source: '/m.gguf',
        checksum: null,
        port: 40001,
        gpu_indexes: [],
        memory_bytes: 1,
        context_length: null,
        runtime_args: [],
        parameters: { threads: 2, parallel: 1 },
        env: {},
        command: null,
        health_path: null,
        api_key: 'rk-test-credential',
      },
      modelPath: '/m.gguf',
      host: '127.0.0.1',
      gpus: [],
      workDir: dataDir,
    });
    expect(launch.args[0]).toBe(out);
    expect(launch.args).toEqual(expect.arrayContaining(['--threads', '2', '--parallel', '1']));
  }, 60_000);
});
