import { createRequire } from 'node:module';
import type { GlobalOptions } from './runtime.ts';

/** A progress bar on stderr, or nothing at all where a person does not watch a terminal. */
export interface Bar {
  /** `value` of `total` done; `status` is shown beside the bar */
  update(value: number, total: number, status?: string): void;
  /** draws the last state and leaves the line in place */
  stop(): void;
}

const silent: Bar = { update() {}, stop() {} };

/**
 * Bars only for a person at a terminal: never when stderr is piped, with NO_COLOR or --no-color,
 * on a dumb terminal or in CI, and never when stdout is data for a script (-o json|yaml).
 */
export function barsEnabled(
  globals: GlobalOptions,
  env: NodeJS.ProcessEnv = process.env,
  stream: NodeJS.WriteStream = process.stderr,
): boolean {
  if (!stream.isTTY || globals.color === false) return false;
  if ('NO_COLOR' in env || 'CI' in env || env.TERM === 'dumb') return false;
  return globals.output === undefined || globals.output === 'table';
}

/** `12.3 MB` */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A bar of bytes (`upload`, `download`) or of lines (`batch`); `enabled` from barsEnabled. */
export function createBar(label: string, unit: 'bytes' | 'lines', enabled: boolean): Bar {
  if (!enabled) return silent;
  // loaded with the first bar drawn, not with every command
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {done} | {status}`,
      hideCursor: true,
      barsize: 30,
      etaBuffer: 20,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const started0 = Date.now();
  // Ctrl-C while a bar hides the cursor: give the terminal back before leaving
  const interrupted = () => {
    bar.stop();
    process.exit(130);
  };
  const payload = (value: number, total: number, status?: string) => {
    const secs = (Date.now() - started0) / 1000;
    const rate = secs > 0 ? value / secs : 0;
    const done = unit === 'bytes' ? `${formatBytes(value)}/${formatBytes(total)}` : `${value}/${total} lines`;
    const speed = unit === 'bytes' ? `${formatBytes(Math.round(rate))}/s` : `${rate.toFixed(1)} lines/s`;
    return { done, status: status ?? speed };
  };
  return {
    update(value, total, status) {
      if (!started) {
        bar.start(Math.max(total, 1), value, payload(value, total, status));
        process.once('SIGINT', interrupted);
        started = true;
        return;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(value, payload(value, total, status));
    },
    stop() {
      if (!started) return;
      process.off('SIGINT', interrupted);
      bar.stop();
      started = false;
    },
  };
}
