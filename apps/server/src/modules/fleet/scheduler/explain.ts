import { formatGiB } from '../estimate/index.ts';
import type { FunnelStage, PlacementRequest, PlacementResult } from './types.ts';

const STAGE_TEXT: Record<string, (req: PlacementRequest) => string> = {
  ready: () => 'are ready',
  schedulable: () => 'accept new replicas',
  tenancy: () =>
    "accept tenants' deployments (the local node inside `maas serve` runs platform admins' deployments only unless a platform admin sets tenant_workloads on it)",
  selector: (req) =>
    `match the selector ${Object.entries(req.nodeSelector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}`,
  runtime: (req) => `have the ${req.runtime} runtime`,
  files: (req) => `have ${req.localPath}`,
  not_excluded: () => 'have not already failed this replica',
};

const dropText = (dropped: Record<string, number> | undefined) =>
  dropped
    ? ` (${Object.entries(dropped)
        .map(([k, v]) => `${v} ${k.replace(/_/g, ' ')}`)
        .join(', ')})`
    : '';

/**
 * One plain sentence for a replica that stays pending, e.g. "2 of 3 nodes match the selector
 * gpu=a100; needs ~18.2 GiB per replica; best node gpu-3 has 15.1 GiB free".
 */
export function explainFunnel(
  funnel: FunnelStage[],
  req: PlacementRequest,
  best: PlacementResult['best'],
  progress: { placed: number; wanted: number; portless: number },
): string {
  const registered = funnel[0]?.nodes ?? 0;
  if (registered === 0)
    return 'no nodes have registered: start one with `maas agent --server URL --token JOIN_TOKEN`';
  const parts: string[] = [];
  for (let i = 1; i < funnel.length; i++) {
    const stage = funnel[i]!;
    const text = STAGE_TEXT[stage.stage];
    if (!text || stage.nodes === funnel[i - 1]!.nodes) continue;
    parts.push(`${stage.nodes} of ${funnel[i - 1]!.nodes} nodes ${text(req)}${dropText(stage.dropped)}`);
  }
  const eligible = funnel.find((s) => s.stage === 'not_excluded')?.nodes ?? 0;
  if (eligible > 0) {
    const per =
      req.gpus > 1 ? ` (${req.gpus} GPUs × ${formatGiB(Math.ceil(req.memoryBytes / req.gpus))})` : '';
    const where =
      req.gpus === 0
        ? 'host memory'
        : req.gpus === 1
          ? 'GPU memory'
          : `GPU memory on ${req.gpus} GPUs of one node`;
    parts.push(`needs ~${formatGiB(req.memoryBytes)} of ${where} per replica${per}`);
    if (best && req.gpus > 0 && best.gpus < req.gpus) {
      parts.push(`best node ${best.nodeName} has ${best.gpus} GPU${best.gpus === 1 ? '' : 's'}`);
    } else if (best) {
      const on = req.gpus > 1 ? ` on its best ${req.gpus} GPUs` : '';
      parts.push(`best node ${best.nodeName} has ${formatGiB(best.freeBytes)} free${on}`);
    }
    if (progress.portless > 0) parts.push(`${progress.portless} nodes have no free port left`);
  }
  if (progress.placed > 0) parts.unshift(`placed ${progress.placed} of ${progress.wanted} replicas`);
  return parts.join('; ');
}
