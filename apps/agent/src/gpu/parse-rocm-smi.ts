import type { GpuInfo } from '@maas/contracts/agent';

/** The query the agent runs (JSON output, one object per card). */
export const ROCM_SMI_ARGS = [
  '--showid',
  '--showuniqueid',
  '--showproductname',
  '--showmeminfo',
  'vram',
  '--showuse',
  '--showtemp',
  '--json',
];

const pick = (card: Record<string, unknown>, pattern: RegExp): string | undefined => {
  for (const [k, v] of Object.entries(card))
    if (pattern.test(k) && v !== null && v !== undefined && !/^n\/a$/i.test(String(v))) return String(v);
  return undefined;
};

const num = (v: string | undefined): number | null => {
  if (v === undefined || /n\/a/i.test(v)) return null;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : null;
};

/** Parses `rocm-smi … --json`: keys `card0`, `card1` …; field names vary a little between versions. */
export function parseRocmSmi(output: string): GpuInfo[] {
  let parsed: Record<string, unknown>;
  try {
    const start = output.indexOf('{');
    if (start < 0) return [];
    parsed = JSON.parse(output.slice(start)) as Record<string, unknown>;
  } catch {
    return [];
  }
  const gpus: GpuInfo[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    const m = /^card(\d+)$/.exec(key);
    if (!m || !value || typeof value !== 'object') continue;
    const card = value as Record<string, unknown>;
    const total = num(pick(card, /^VRAM Total Memory \(B\)$/i));
    if (total === null) continue;
    const used = num(pick(card, /^VRAM Total Used Memory \(B\)$/i)) ?? 0;
    const util = num(pick(card, /^GPU use \(%\)$/i));
    gpus.push({
      index: Number(m[1]),
      uuid: pick(card, /^Unique ID$/i) ?? pick(card, /^GPU ID$/i) ?? `card${m[1]}`,
      name: pick(card, /^Card (series|model)$/i) ?? pick(card, /^Card SKU$/i) ?? 'AMD GPU',
      vendor: 'amd',
      memory_total: total,
      memory_free: Math.max(0, total - used),
      utilization_pct: util,
      temperature_c: num(pick(card, /^Temperature \(Sensor (edge|junction)\) \(C\)$/i)),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}
