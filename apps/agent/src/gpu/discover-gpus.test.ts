import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverGpus } from './discover-gpus.ts';
import { parseNvidiaSmi } from './parse-nvidia-smi.ts';
import { parseRocmSmi } from './parse-rocm-smi.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const MIB = 1024 * 1024;

describe('nvidia-smi parsing (recorded outputs)', () => {
  it('reads one H100', () => {
    expect(parseNvidiaSmi(fixture('nvidia-smi-h100x1.txt'))).toEqual([
      {
        index: 0,
        uuid: 'GPU-5a8f3b1c-9d2e-4f60-8a71-0c2b6e4d9f13',
        name: 'NVIDIA H100 80GB HBM3',
        vendor: 'nvidia',
        memory_total: 81559 * MIB,
        memory_free: 81008 * MIB,
        utilization_pct: 0,
        temperature_c: 34,
      },
    ]);
  });

  it('reads eight busy A100s and treats [N/A] as unknown', () => {
    const gpus = parseNvidiaSmi(fixture('nvidia-smi-a100x8-busy.txt'));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[0]!.memory_free).toBe(2311 * MIB);
    expect(gpus[0]!.utilization_pct).toBe(97);
    expect(gpus[6]!.utilization_pct).toBeNull();
    expect(gpus[7]!.temperature_c).toBeNull();
  });

  it('skips a header line and strips units', () => {
    const gpus = parseNvidiaSmi(fixture('nvidia-smi-with-header-units.txt'));
    expect(gpus.map((g) => [g.name, g.memory_total / MIB, g.memory_free / MIB, g.utilization_pct])).toEqual([
      ['NVIDIA GeForce RTX 4090', 24564, 23012, 3],
      ['Tesla T4', 15360, 14930, null],
    ]);
  });

  it('finds no GPU when the driver is not loaded', () => {
    expect(parseNvidiaSmi(fixture('nvidia-smi-no-driver.txt'))).toEqual([]);
  });
});

describe('rocm-smi parsing (recorded output)', () => {
  it('reads two MI300X with used memory and the junction temperature', () => {
    const gpus = parseRocmSmi(fixture('rocm-smi-mi300x.json'));
    expect(gpus).toHaveLength(2);
    expect(gpus[1]).toMatchObject({
      index: 1,
      uuid: '0x2a1b3c4d5e6f7081',
      name: 'AMD Instinct MI300X',
      vendor: 'amd',
      memory_total: 206141652992,
      memory_free: 206141652992 - 103070826496,
      utilization_pct: 87,
      temperature_c: 71,
    });
  });

  it('ignores output that is not JSON', () => {
    expect(parseRocmSmi('ERROR: No AMD GPUs found')).toEqual([]);
  });
});

describe('discovery', () => {
  it('runs nvidia-smi when present and falls back to no GPUs when nothing is installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maas-smi-'));
    const fake = join(dir, 'nvidia-smi');
    writeFileSync(
      fake,
      `#!/bin/sh\ncat '${new URL('./fixtures/nvidia-smi-h100x1.txt', import.meta.url).pathname}'\n`,
    );
    chmodSync(fake, 0o755);
    expect((await discoverGpus({ nvidiaSmi: fake, rocmSmi: join(dir, 'none') })).map((g) => g.name)).toEqual([
      'NVIDIA H100 80GB HBM3',
    ]);
    expect(await discoverGpus({ nvidiaSmi: join(dir, 'absent'), rocmSmi: join(dir, 'absent') })).toEqual([]);
  });
});
