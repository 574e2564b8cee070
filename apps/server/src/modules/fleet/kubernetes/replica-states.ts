import type { ReplicaState } from '@maas/contracts/agent';
import type { ReplicaRow } from '../schema.ts';
import type { PodView } from './pod-status.ts';

/** One replica row's state as Kubernetes shows it. */
export interface RowState {
  state: ReplicaState;
  reason: string | null;
  endpoint: string | null;
  restarts: number;
}

/** Rows of each revision take that revision's ready pods first, then its waiting pods' reasons. */
export function rowStates(
  rows: ReplicaRow[],
  pods: PodView[],
  endpoint: string | null,
): Map<string, RowState> {
  const out = new Map<string, RowState>();
  const ordered = [...rows].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
  );
  for (const rev of new Set(ordered.map((r) => r.revision))) {
    const mine = pods.filter((p) => p.revision === rev);
    const ready = mine.filter((p) => p.ready);
    const waiting = mine.filter((p) => !p.ready);
    ordered
      .filter((r) => r.revision === rev)
      .forEach((r, i) => {
        const pod = ready[i];
        if (pod && endpoint) {
          out.set(r.id, { state: 'running', reason: null, endpoint, restarts: pod.restarts });
          return;
        }
        if (pod) {
          out.set(r.id, {
            state: 'starting',
            reason: 'waiting for the Service’s load-balancer address',
            endpoint: null,
            restarts: pod.restarts,
          });
          return;
        }
        const w = waiting[i - ready.length];
        out.set(r.id, {
          state: w ? (w.failed ? 'failed' : 'starting') : 'pending',
          reason: w?.reason ?? 'waiting for Kubernetes to create a pod',
          endpoint: null,
          restarts: w?.restarts ?? 0,
        });
      });
  }
  return out;
}
