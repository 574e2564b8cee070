import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Is `name` an executable on PATH? */
export function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** Does `python3 -c "import <module>"` succeed within the timeout? */
export function pythonHas(module: string, timeoutMs = 10_000): Promise<boolean> {
  if (!onPath('python3')) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile(
      'python3',
      ['-c', `import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('${module}') else 1)`],
      { timeout: timeoutMs },
      (err) => resolve(!err),
    );
  });
}
