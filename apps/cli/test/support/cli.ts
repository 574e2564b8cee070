import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/maas.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON */
  json(): any;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** written to standard input, which is then closed */
  input?: string;
}

/** A scratch config directory and a runner of the built CLI (`node apps/cli/bin/maas.js`) on it. */
export function cliWith(configDir = mkdtempSync(join(tmpdir(), 'maas-cli-'))) {
  const run = (args: string[], opts: CliOptions = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: configDir,
          MAAS_CONFIG_DIR: configDir,
          ...opts.env,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({
          code,
          stdout,
          stderr,
          json() {
            try {
              return JSON.parse(stdout);
            } catch {
              throw new Error(`not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
            }
          },
        }),
      );
      child.stdin.end(opts.input ?? '');
    });
  return { configDir, run };
}
