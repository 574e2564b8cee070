#!/usr/bin/env node
// Builds the production bundle of the CLI and the server (`npm run build`, and before `npm start`):
// dist/maas.mjs and the chunks it loads on demand (the server only for `maas serve`), our TypeScript
// compiled once by esbuild instead of at every start by tsx's loader. Packages from node_modules stay
// outside the bundle (PGlite's WASM, the native modules, anything that reads its own files), but
// for a few of many small modules (BUNDLED_PACKAGES): dist/ sits at the repository root, so node
// finds them in ./node_modules as the sources do.
//
// The files our code reads beside itself (the PGlite worker, the migrations, the console, the
// agent's scripts) are not copied: each module's `import.meta.url` is rewritten to the URL of its
// source file, so `new URL('./pglite-worker.mjs', import.meta.url)` finds the file it always did.
//
// Skipped when dist/ is newer than every source file it was built from (a fraction of a second
// otherwise). Each file is written beside its place and renamed over it, chunks are named by
// their content: a process starting from dist/ meanwhile never loads half a bundle.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dist = join(root, 'dist');
const entry = join(dist, 'maas.mjs');
const inputsFile = join(dist, 'inputs.json');

/** `import.meta.url` of a bundled module → its source file's URL, relative to the bundle. */
const sourceLocations = {
  name: 'source-locations',
  setup(b) {
    b.onLoad({ filter: /\.(ts|mjs)$/ }, async (args) => {
      if (args.path.includes(join('node_modules', ''))) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromBundle = relative(dist, args.path).split('\\').join('/');
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return {
        contents: text.replaceAll('import.meta.url', url),
        loader: args.path.endsWith('.ts') ? 'ts' : 'js',
      };
    });
  },
};

/**
 * Pure-JavaScript packages made of many small ES modules, bundled with our code: node's ES module
 * loader costs per file about what compiling it does, and `maas serve` loads hundreds of theirs at
 * start (~0.1 s of CPU). A package that imports one of them (zod's type provider) is bundled too,
 * so that one copy of each is loaded.
 */
const BUNDLED_PACKAGES = /^(zod|drizzle-orm|fastify-type-provider-zod)(\/|$)/;

/** Bare imports stay imports of node_modules, except our own workspace packages and BUNDLED_PACKAGES. */
const packagesExternal = {
  name: 'packages-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@maas/') || BUNDLED_PACKAGES.test(args.path)
        ? undefined
        : { path: args.path, external: true },
    );
  },
};

/** True when dist/ is missing or older than a file it was built from (or than this script). */
export function bundleIsStale() {
  if (!existsSync(entry) || !existsSync(inputsFile)) return true;
  const builtAt = statSync(entry).mtimeMs;
  const inputs = [
    ...JSON.parse(readFileSync(inputsFile, 'utf8')),
    relative(root, fileURLToPath(import.meta.url)),
  ];
  return inputs.some((input) => {
    try {
      return statSync(join(root, input)).mtimeMs > builtAt;
    } catch {
      return true;
    }
  });
}

async function writeAtomically(path, contents) {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, contents);
  await rename(tmp, path);
}

export async function buildBundle() {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: { maas: 'apps/cli/src/bin.ts' },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [packagesExternal, sourceLocations],
  });
  await mkdir(dist, { recursive: true });
  // chunks first, the entry that imports them last
  const files = [...result.outputFiles].sort((a, b) => (a.path === entry) - (b.path === entry));
  for (const file of files) await writeAtomically(file.path, file.contents);
  const written = new Set(files.map((f) => f.path));
  for (const name of await readdir(dist)) {
    const path = join(dist, name);
    if (/\.mjs(\.map)?$/.test(name) && !written.has(path)) await rm(path, { force: true });
  }
  await writeAtomically(inputsFile, `${JSON.stringify(Object.keys(result.metafile.inputs), null, 1)}\n`);
}

export async function buildBundleIfStale() {
  if (!bundleIsStale()) return false;
  await buildBundle();
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildBundleIfStale();
  console.log(built ? 'maas bundle: built dist/maas.mjs' : 'maas bundle: up to date');
}
