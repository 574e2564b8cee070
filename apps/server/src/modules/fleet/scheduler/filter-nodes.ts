import type { FunnelStage, PlacementRequest, SchedNode } from './types.ts';

type Stage = FunnelStage['stage'];

/** Does the node hold the file? `unknown` when it does not index the directory the file is in. */
export function hasFile(node: SchedNode, path: string): boolean | 'unknown' {
  if (node.files.has(path)) return true;
  return node.modelDirs.some((dir) => path.startsWith(dir.endsWith('/') ? dir : `${dir}/`))
    ? false
    : 'unknown';
}

const tally = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

/** The filter half of the funnel: every node that may run the replica at all, before capacity. */
export function filterNodes(
  nodes: readonly SchedNode[],
  req: PlacementRequest,
): { eligible: SchedNode[]; funnel: FunnelStage[] } {
  const funnel: FunnelStage[] = [{ stage: 'registered', nodes: nodes.length }];
  const step = (stage: Stage, list: SchedNode[], keep: (n: SchedNode) => string | null): SchedNode[] => {
    const dropped: Record<string, number> = {};
    const kept = list.filter((n) => {
      const why = keep(n);
      if (why) tally(dropped, why);
      return !why;
    });
    funnel.push({ stage, nodes: kept.length, ...(kept.length < list.length ? { dropped } : {}) });
    return kept;
  };
  const selector = Object.entries(req.nodeSelector);
  let list = step('ready', [...nodes], (n) => (n.status === 'ready' ? null : n.status));
  list = step('schedulable', list, (n) => (n.schedulable ? null : (n.cordonReason ?? 'cordoned')));
  list = step('tenancy', list, (n) => (req.tenant && !n.tenantWorkloads ? 'admin_only' : null));
  list = step('selector', list, (n) => (selector.every(([k, v]) => n.labels[k] === v) ? null : 'labels'));
  list = step('runtime', list, (n) => (n.runtimes.includes(req.runtime) ? null : 'runtime'));
  list = step('files', list, (n) =>
    req.localPath && hasFile(n, req.localPath) === false ? 'missing' : null,
  );
  list = step('not_excluded', list, (n) => (req.excludeNodes?.has(n.id) ? 'failed_before' : null));
  return { eligible: list, funnel };
}
