import { spawn } from 'node:child_process';

/**
 * Runs pg_dump / pg_restore. The password travels in PGPASSWORD, not on the command line (where
 * other users of the machine could read it in the process list).
 */
export function runPgTool(
  tool: 'pg_dump' | 'pg_restore',
  databaseUrl: string,
  args: string[],
): Promise<string> {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env = { ...process.env, ...(password ? { PGPASSWORD: password } : {}) };
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [...args, `--dbname=${url.toString()}`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(`${tool} not found: install the PostgreSQL client (Debian: postgresql-client)`)
          : err,
      ),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${tool} failed (exit ${code}): ${stderr.trim().slice(-2000)}`)),
    );
  });
}

export async function pgToolVersion(tool: 'pg_dump' | 'pg_restore'): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(tool, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', () => resolve('absent'));
    child.on('exit', () => resolve(out.trim()));
  });
}
