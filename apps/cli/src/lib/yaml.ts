import { createRequire } from 'node:module';

/** YAML text for a value; the yaml package is loaded on first use, not at start-up. */
export function toYaml(value: unknown): string {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.stringify(value);
}
