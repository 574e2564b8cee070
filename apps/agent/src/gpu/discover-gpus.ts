import { execFile } from 'node:child_process';
import type { GpuInfo } from '@maas/contracts/agent';
import { NVIDIA_SMI_ARGS, parseNvidiaSmi } from './parse-nvidia-smi.ts';
import { parseRocmSmi, ROCM_SMI_ARGS } from './parse-rocm-smi.ts';

/** A tool that is not installed is looked for again only after this long (a report runs every few seconds). */
const MISSING_RETRY_MS = 60_000;
const missingUntil = new Map<string, number>();

function run(command: string, args: string[], timeoutMs: number): Promise<string | null> {
  if ((missingUntil.get(command) ?? 0) > Date.now()) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT')
        missingUntil.set(command, Date.now() + MISSING_RETRY_MS);
      resolve(err ? null : stdout);
    });
  });
}

export interface DiscoverOptions {
  /** override the binaries (tests, unusual installs) */
  nvidiaSmi?: string;
  rocmSmi?: string;
  timeoutMs?: number;
}

/** GPUs from nvidia-smi, then rocm-smi; none when neither is installed or both fail. */
export async function discoverGpus(opts: DiscoverOptions = {}): Promise<GpuInfo[]> {
  const timeout = opts.timeoutMs ?? 5_000;
  const nvidia = await run(opts.nvidiaSmi ?? 'nvidia-smi', NVIDIA_SMI_ARGS, timeout);
  const found = nvidia ? parseNvidiaSmi(nvidia) : [];
  if (found.length > 0) return found;
  const rocm = await run(opts.rocmSmi ?? 'rocm-smi', ROCM_SMI_ARGS, timeout);
  return rocm ? parseRocmSmi(rocm) : [];
}
