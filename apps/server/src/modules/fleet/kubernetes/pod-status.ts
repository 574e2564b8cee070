import type { V1Pod } from '@kubernetes/client-node';
import { LABELS } from './manifests.ts';

/** What maas makes of one pod: is it serving, and if not, why not in plain words. */
export interface PodView {
  name: string;
  revision: number | null;
  ready: boolean;
  /** failed: it keeps crashing or cannot pull its image; else still on its way */
  failed: boolean;
  restarts: number;
  reason: string | null;
}

const FAILING = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export function viewPod(pod: V1Pod): PodView {
  const name = pod.metadata?.name ?? '?';
  const rev = Number(pod.metadata?.labels?.[LABELS.revision]);
  const statuses = pod.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((s, c) => s + (c.restartCount ?? 0), 0);
  const base = { name, revision: Number.isInteger(rev) ? rev : null, restarts };
  if (pod.metadata?.deletionTimestamp)
    return { ...base, ready: false, failed: false, reason: `pod ${name} is terminating` };
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  if (ready) return { ...base, ready: true, failed: false, reason: null };
  for (const c of statuses) {
    const waiting = c.state?.waiting;
    if (waiting?.reason) {
      const last = c.lastState?.terminated;
      const exit = last ? ` (last exit code ${last.exitCode}${last.reason ? `, ${last.reason}` : ''})` : '';
      const message = waiting.message ? `: ${waiting.message}` : '';
      return {
        ...base,
        ready: false,
        failed: FAILING.has(waiting.reason),
        reason: `pod ${name}: ${waiting.reason}${exit}${message}`.slice(0, 500),
      };
    }
  }
  if (pod.status?.phase === 'Failed')
    return { ...base, ready: false, failed: true, reason: `pod ${name} failed: ${pod.status.reason ?? ''}` };
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled)
    return {
      ...base,
      ready: false,
      failed: false,
      reason: `pod ${name} is not scheduled: ${unscheduled.reason ?? 'Pending'}${
        unscheduled.message ? ` (${unscheduled.message})` : ''
      }`.slice(0, 500),
    };
  return { ...base, ready: false, failed: false, reason: `pod ${name} is starting (waiting for /health)` };
}
