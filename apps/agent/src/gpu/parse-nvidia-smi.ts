import type { GpuInfo } from '@maas/contracts/agent';

const MIB = 1024 * 1024;

/** The query the agent runs; the parser expects exactly these columns in this order. */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,uuid,name,memory.total,memory.free,utilization.gpu,temperature.gpu',
  '--format=csv,noheader,nounits',
];

/** `[N/A]`, `[Not Supported]`, `N/A` and empty cells are unknown. */
function num(cell: string | undefined): number | null {
  const v = cell?.trim() ?? '';
  if (v === '' || /n\/a|not supported|unknown|error/i.test(v)) return null;
  const n = Number(v.replace(/\s*(MiB|%|C)$/i, ''));
  return Number.isFinite(n) ? n : null;
}

/**
 * Parses `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` (with or without a header line and
 * units). Lines that are not GPU rows (driver errors, warnings) are skipped.
 */
export function parseNvidiaSmi(output: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of output.split(/\r?\n/)) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 7) continue;
    // A GPU name may itself contain commas: the first two cells and the last four are fixed.
    const [indexCell, uuid] = cells;
    const tail = cells.slice(-4);
    const name = cells.slice(2, -4).join(', ');
    const index = num(indexCell);
    const total = num(tail[0]);
    if (index === null || !Number.isInteger(index) || total === null || !uuid) continue;
    const free = num(tail[1]);
    const util = num(tail[2]);
    gpus.push({
      index,
      uuid,
      name,
      vendor: 'nvidia',
      memory_total: total * MIB,
      memory_free: (free ?? total) * MIB,
      utilization_pct: util === null ? null : Math.min(100, Math.max(0, util)),
      temperature_c: num(tail[3]),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}
