import { readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { NodeResources } from '@maas/contracts/agent';
import { type DiscoverOptions, discoverGpus } from '../gpu/discover-gpus.ts';

/** MemAvailable from /proc/meminfo (what can be had without swapping); os.freemem() elsewhere. */
async function availableMemory(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const m = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : freemem();
}

/** CPU, memory, the disk holding `dataDir`, and the GPUs nvidia-smi or rocm-smi report. */
export async function collectResources(
  dataDir: string,
  gpuOptions: DiscoverOptions = {},
): Promise<NodeResources> {
  const [gpus, free, disk] = await Promise.all([
    discoverGpus(gpuOptions),
    availableMemory(),
    statfs(dataDir).catch(() => null),
  ]);
  const list = cpus();
  return {
    cpu: {
      cores: list.length,
      model: list[0]?.model.trim() ?? 'unknown',
      load1: Math.round(loadavg()[0]! * 100) / 100,
    },
    memory: { total: totalmem(), free },
    disk: {
      path: dataDir,
      total: disk ? disk.blocks * disk.bsize : 0,
      free: disk ? disk.bavail * disk.bsize : 0,
    },
    gpus,
  };
}
