import type { PlacementResult } from './scheduler/index.ts';

/**
 * The reasons a replica is not placed, as a bounded set for metrics (the scheduler's own reason
 * is a sentence naming nodes and sizes):
 * `no_nodes` (none registered), a filter stage that left no node (`ready`, `schedulable`,
 * `tenancy`, `selector`, `runtime`, `files`, `not_excluded`), `no_free_port`, `capacity` (not
 * enough GPU or host memory, or GPUs, on any eligible node) and `unknown_memory` (its size could
 * not be worked out).
 */
export const PLACEMENT_FAILURE_CLASSES = [
  'no_nodes',
  'ready',
  'schedulable',
  'tenancy',
  'selector',
  'runtime',
  'files',
  'not_excluded',
  'no_free_port',
  'capacity',
  'unknown_memory',
] as const;
export type PlacementFailureClass = (typeof PLACEMENT_FAILURE_CLASSES)[number];

/** What one placement attempt of one replica came to. */
export type PlacementOutcome = 'placed' | PlacementFailureClass;

export function placementFailureClass(result: Pick<PlacementResult, 'funnel'>): PlacementFailureClass {
  const { funnel } = result;
  if ((funnel[0]?.nodes ?? 0) === 0) return 'no_nodes';
  for (let i = 1; i < funnel.length; i++) {
    const stage = funnel[i]!;
    if (stage.nodes > 0) continue;
    if (stage.stage === 'capacity')
      return stage.dropped?.no_free_port === funnel[i - 1]!.nodes ? 'no_free_port' : 'capacity';
    return (PLACEMENT_FAILURE_CLASSES as readonly string[]).includes(stage.stage)
      ? (stage.stage as PlacementFailureClass)
      : 'capacity';
  }
  // nodes were left at every stage but fewer than the replicas wanted: out of room
  return 'capacity';
}
