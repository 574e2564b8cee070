import type { DeploymentRow, ReplicaRow } from './schema.ts';

export interface RolloutPlan {
  /** new replicas of the current revision to create */
  create: number;
  /** replicas to take out of the gateway and stop */
  stop: ReplicaRow[];
}

const PROGRESS: Record<string, number> = {
  pending: 0,
  failed: 1,
  scheduled: 2,
  downloading: 3,
  starting: 4,
  running: 5,
};
/** Least useful first: pending, failed, then the least far along; newest first among equals. */
const byUselessness = (a: ReplicaRow, b: ReplicaRow) =>
  (PROGRESS[a.state] ?? 0) - (PROGRESS[b.state] ?? 0) || b.createdAt.getTime() - a.createdAt.getTime();

/**
 * What to do next for one deployment, from its replicas that are wanted (`desired = run`):
 *
 * - keepers: replicas of the current revision on nodes that are not draining;
 * - leavers: replicas of an older revision (rolling update) or on a draining node.
 *
 * Keepers are scaled to the target (the canary's count during a canary). Leavers stay only while
 * they are needed to hold the target: each one stops once a keeper runs in its place, so a rolling
 * update moves one replica at a time (a new one is created only when every keeper runs) and a drain
 * starts every replacement at once but stops nothing before its replacement runs.
 */
export function planRollout(
  dep: DeploymentRow,
  wanted: ReplicaRow[],
  draining: ReadonlySet<string>,
): RolloutPlan {
  const keepers: ReplicaRow[] = [];
  const oldRevision: ReplicaRow[] = [];
  const drained: ReplicaRow[] = [];
  for (const r of wanted) {
    if (r.revision !== dep.revision) oldRevision.push(r);
    else if (r.nodeId && draining.has(r.nodeId)) drained.push(r);
    else keepers.push(r);
  }
  if (dep.status === 'deleting') return { create: 0, stop: wanted };

  if (dep.canary) {
    // Canary: the new revision at its own count beside the old one, which is left alone.
    const target = dep.canary.replicas;
    const stop =
      keepers.length > target ? [...keepers].sort(byUselessness).slice(0, keepers.length - target) : [];
    const runningKeepers = keepers.filter((r) => r.state === 'running').length;
    return {
      create: Math.max(0, target - keepers.length),
      stop: [...stop, ...leaversToStop(drained, dep.replicas, runningKeepers)],
    };
  }

  const target = dep.replicas;
  const stop: ReplicaRow[] = [];
  if (keepers.length > target)
    stop.push(...[...keepers].sort(byUselessness).slice(0, keepers.length - target));
  const kept = keepers.filter((r) => !stop.includes(r));
  const runningKept = kept.filter((r) => r.state === 'running').length;
  let create = 0;
  if (kept.length < target) {
    const missing = target - kept.length;
    // Rolling update: one at a time, and only once every keeper runs.
    if (oldRevision.length > 0) create = kept.every((r) => r.state === 'running') ? 1 : 0;
    else create = missing;
    if (oldRevision.length > 0 && drained.length > 0)
      create = Math.max(create, Math.min(missing, drained.length));
  }
  stop.push(...leaversToStop([...oldRevision, ...drained], target, runningKept));
  return { create, stop };
}

/** Leavers are kept only while running keepers are fewer than the target; the least useful go first. */
function leaversToStop(leavers: ReplicaRow[], target: number, runningKeepers: number): ReplicaRow[] {
  const needed = Math.max(0, target - runningKeepers);
  const ordered = [...leavers].sort(byUselessness).reverse(); // most useful first
  const keep = ordered.filter((r) => r.state === 'running').slice(0, needed);
  return leavers.filter((r) => !keep.includes(r));
}
