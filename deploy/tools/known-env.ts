// The environment variables maas reads: every MAAS_* name in the sources of the server, the CLI and
// the agent, plus the standard ones. Deploy artifacts may set only these, so a typo fails validation.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const STANDARD = ['NODE_ENV', 'DATABASE_URL', 'REDIS_URL', 'HOME', 'TMPDIR', 'PATH', 'NODE_OPTIONS'];

/** true when maas (or OpenTelemetry's standard OTEL_* configuration) reads `name` */
export function envChecker(repoRoot: string): (name: string) => boolean {
  const names = knownEnv(repoRoot);
  return (name) => names.has(name) || name.startsWith('OTEL_');
}

export function knownEnv(repoRoot: string): Set<string> {
  const names = new Set(STANDARD);
  for (const app of ['server', 'cli', 'agent']) {
    for (const file of sourceFiles(join(repoRoot, 'apps', app, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\b(MAAS_[A-Z0-9_]+|OTEL_[A-Z0-9_]+)\b/g)) {
        names.add(m[1]!);
      }
    }
  }
  return names;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}
