import { describe, expect, it } from 'vitest';
import { placementFailureClass } from './placement-class.ts';
import type { FunnelStage } from './scheduler/index.ts';

const funnel = (...stages: [FunnelStage['stage'], number, Record<string, number>?][]) => ({
  funnel: stages.map(([stage, nodes, dropped]) => ({ stage, nodes, ...(dropped ? { dropped } : {}) })),
});

describe('placementFailureClass', () => {
  it('names the stage that left no node', () => {
    expect(placementFailureClass(funnel(['registered', 0]))).toBe('no_nodes');
    expect(placementFailureClass(funnel(['registered', 2], ['ready', 0, { unreachable: 2 }]))).toBe('ready');
    expect(
      placementFailureClass(funnel(['registered', 3], ['ready', 3], ['schedulable', 3], ['selector', 0])),
    ).toBe('selector');
  });

  it('tells ports apart from memory at the capacity stage', () => {
    const filtered: [FunnelStage['stage'], number][] = [
      ['registered', 2],
      ['ready', 2],
      ['not_excluded', 2],
    ];
    expect(placementFailureClass(funnel(...filtered, ['capacity', 0, { no_free_port: 2 }]))).toBe(
      'no_free_port',
    );
    expect(placementFailureClass(funnel(...filtered, ['capacity', 0, { no_free_port: 1 }]))).toBe('capacity');
    expect(placementFailureClass(funnel(...filtered, ['capacity', 0]))).toBe('capacity');
    // some placed, then room ran out
    expect(placementFailureClass(funnel(...filtered, ['capacity', 1]))).toBe('capacity');
  });
});
