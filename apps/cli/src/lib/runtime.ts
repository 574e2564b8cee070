import type { Command } from 'commander';
import { type ApiClient, createApiClient } from './api-client.ts';
import { type ActiveContext, activeContext, type ConfigStore, createConfigStore } from './config-store.ts';
import { CliError, EXIT } from './errors.ts';
import { createOutput, type Output } from './output.ts';

export interface GlobalOptions {
  output?: string;
  color?: boolean;
  context?: string;
}

/** What a command needs: its output, the config store, the active context and an API client. */
export interface Runtime {
  out: Output;
  store: ConfigStore;
  globals: GlobalOptions;
  /** the active context; throws (exit 3) when there is none */
  active(): ActiveContext;
  /** the active context, or null */
  maybeActive(): ActiveContext | null;
  api(): ApiClient;
}

/** `formats`: the -o values this command accepts (default table, json, yaml). */
export function runtimeOf(cmd: Command, formats?: readonly string[]): Runtime {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const store = createConfigStore();
  const out = createOutput(globals, formats);
  let client: ApiClient | undefined;
  const rt: Runtime = {
    out,
    store,
    globals,
    maybeActive: () => activeContext(store, globals.context),
    active() {
      const active = rt.maybeActive();
      if (!active)
        throw new CliError('not logged in: run `maas login <server>` first', EXIT.auth, 'not_logged_in');
      return active;
    },
    api() {
      client ??= createApiClient(rt.active(), store);
      return client;
    },
  };
  return rt;
}

/** Adds an "Examples:" section to a command's --help. */
export function examples<T extends Command>(cmd: T, lines: string[]): T {
  cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  return cmd;
}

/** Collects a repeatable option into an array. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Parses `30d`, `12h`, `15m`, `90s` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new CliError(`not a duration: "${text}" (use e.g. 90s, 15m, 12h, 30d)`, EXIT.usage, 'usage');
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3, w: 7 * 86_400e3 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

/** An ISO timestamp from an ISO date/time or a duration before now (`7d` → 7 days ago). */
export function parseTime(text: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d|w)$/.test(text.trim()))
    return new Date(now - parseDuration(text)).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CliError(`not a time: "${text}" (use ISO 8601 or e.g. 7d)`, EXIT.usage, 'usage');
  return new Date(t).toISOString();
}

/** Parses an integer option, or exits 2. */
export function parseInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new CliError(`not an integer: "${text}"`, EXIT.usage, 'usage');
  return n;
}

export function parseNumber(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new CliError(`not a number: "${text}"`, EXIT.usage, 'usage');
  return n;
}

/** Reads all of standard input as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
