#!/usr/bin/env node
// Builds the web console (vite build) only when dist/ is missing or older than its sources.
// Used by the root `npm start` and `npm test` (prestart / pretest) so the quick start shows the console.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const builtMarker = join(root, 'dist', 'index.html');
const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(root, p));

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, name) => Math.max(newest, newestMtime(join(path, name))),
    stat.mtimeMs,
  );
}

export function consoleIsStale() {
  if (!existsSync(builtMarker)) return true;
  const builtAt = statSync(builtMarker).mtimeMs;
  return sources.some((source) => newestMtime(source) > builtAt);
}

export function buildConsoleIfNeeded({ quiet = false } = {}) {
  if (!consoleIsStale()) {
    if (!quiet) console.log('maas console: up to date');
    return false;
  }
  if (!quiet) console.log('maas console: building (vite build)…');
  const vite = join(root, '..', '..', 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) {
    // installed without dev dependencies: the server still starts and / says how to build
    console.warn(
      'maas console: vite is not installed (npm ci without dev dependencies?); skipping the build',
    );
    return false;
  }
  // Built beside dist/ and swapped in whole: a server (or another build) never sees half a console.
  const fresh = `dist-build-${process.pid}`;
  const result = spawnSync(
    process.execPath,
    [vite, 'build', '--outDir', fresh, '--emptyOutDir', '--logLevel', quiet ? 'error' : 'warn'],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) {
    rmSync(join(root, fresh), { recursive: true, force: true });
    throw new Error(`vite build failed with status ${result.status}`);
  }
  swapIn(join(root, fresh), join(root, 'dist'));
  return true;
}

function swapIn(fresh, dist) {
  const old = `${dist}-old-${process.pid}`;
  try {
    renameSync(dist, old);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  try {
    renameSync(fresh, dist);
  } catch (err) {
    // a concurrent build swapped its own in first: keep that one
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    rmSync(fresh, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    buildConsoleIfNeeded();
  } catch (err) {
    console.error(`maas console: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
