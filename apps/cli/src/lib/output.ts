import { createRequire } from 'node:module';
import pc from 'picocolors';
import { usageError } from './errors.ts';
import { toYaml } from './yaml.ts';

// the table and spinner packages load with the first table or spinner drawn, not with every
// command (`maas serve` draws neither)
const require = createRequire(import.meta.url);

export const FORMATS = ['table', 'json', 'yaml'] as const;
/** table, json, yaml, or another a command accepts (csv for usage) */
export type Format = (typeof FORMATS)[number] | (string & {});
export type Colors = ReturnType<typeof pc.createColors>;

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** colours a cell (only when colour is on) */
  paint?: (text: string, row: T, c: Colors) => string;
}

export interface Progress {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface Output {
  format: Format;
  c: Colors;
  /** a person reads stdout: table format on a terminal */
  human: boolean;
  /** prints `value` as JSON/YAML, or runs `table` for people */
  print(value: unknown, table: () => void): void;
  table<T>(rows: T[], columns: Column<T>[]): void;
  /** `label: value` lines for one object */
  fields(pairs: [string, unknown][]): void;
  line(text?: string): void;
  /** a note for people on stderr (never mixed into data on stdout) */
  note(text: string): void;
  warn(text: string): void;
  /** a spinner on stderr when it is a terminal and the output is a table; silent otherwise */
  progress(text: string): Progress;
}

export interface OutputOptions {
  output?: string;
  color?: boolean;
}

/** Colour only for terminals, never when piped, never with NO_COLOR or --no-color; FORCE_COLOR wins. */
export function colorEnabled(stream: NodeJS.WriteStream, opts: OutputOptions, env = process.env): boolean {
  if (opts.color === false || 'NO_COLOR' in env) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function parseFormat(value: string | undefined, allowed: readonly string[] = FORMATS): Format {
  const format = value ?? 'table';
  if (!allowed.includes(format))
    throw usageError(`unknown output format "${format}"; use ${allowed.join(', ')}`);
  return format as Format;
}

/** `null` → `-`, arrays joined, objects as compact JSON, ISO timestamps shortened. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(cell).join(',') : '-';
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value))
    return `${value.slice(0, 10)} ${value.slice(11, 19)}`;
  return String(value);
}

export function createOutput(
  opts: OutputOptions,
  formats: readonly string[] = FORMATS,
  env = process.env,
): Output {
  const format = parseFormat(opts.output, formats);
  const c = pc.createColors(colorEnabled(process.stdout, opts, env));
  const errColors = pc.createColors(colorEnabled(process.stderr, opts, env));
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const spinnable = format === 'table' && Boolean(process.stderr.isTTY) && !('CI' in env);

  const output: Output = {
    format,
    c,
    human: format === 'table',
    print(value, table) {
      if (format === 'json') out(JSON.stringify(value, null, 2));
      else if (format === 'yaml') process.stdout.write(toYaml(value));
      else table();
    },
    table(rows, columns) {
      if (rows.length === 0) {
        output.note('(none)');
        return;
      }
      const Table = require('cli-table3') as typeof import('cli-table3');
      const t = new Table({
        head: columns.map((col) => c.bold(col.header.toUpperCase())),
        chars: {
          top: '',
          'top-mid': '',
          'top-left': '',
          'top-right': '',
          bottom: '',
          'bottom-mid': '',
          'bottom-left': '',
          'bottom-right': '',
          left: '',
          'left-mid': '',
          mid: '',
          'mid-mid': '',
          right: '',
          'right-mid': '',
          middle: '   ',
        },
        style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
      });
      for (const row of rows)
        t.push(
          columns.map((col) => {
            const text = cell(col.value(row));
            return col.paint ? col.paint(text, row, c) : text;
          }),
        );
      out(t.toString().replace(/[ \t]+$/gm, ''));
    },
    fields(pairs) {
      const width = Math.max(...pairs.map(([k]) => k.length));
      for (const [k, v] of pairs) out(`${c.dim(`${k}:`.padEnd(width + 1))} ${cell(v)}`);
    },
    line(text = '') {
      out(text);
    },
    note(text) {
      process.stderr.write(`${text}\n`);
    },
    warn(text) {
      process.stderr.write(`${errColors.yellow('warning:')} ${text}\n`);
    },
    progress(text) {
      if (!spinnable) return { update() {}, succeed() {}, fail() {}, stop() {} };
      const { createSpinner } = require('nanospinner') as typeof import('nanospinner');
      const spinner = createSpinner(text, { stream: process.stderr }).start();
      return {
        update: (t) => void spinner.update({ text: t }),
        succeed: (t) => void spinner.success(t ? { text: t } : undefined),
        fail: (t) => void spinner.error(t ? { text: t } : undefined),
        stop: () => void spinner.clear(),
      };
    },
  };
  return output;
}

/** Colours a health or status word: green good, yellow in between, red bad. */
export function paintStatus(text: string, c: Colors): string {
  if (/^(ok|ready|healthy|active|closed|finalized|success)$/.test(text)) return c.green(text);
  if (/^(degraded|deprecated|half_open|draft|unknown|pending|expired)$/.test(text)) return c.yellow(text);
  if (/^(unhealthy|retired|revoked|open|not_ready|failed|error|down)$/.test(text)) return c.red(text);
  return text;
}
