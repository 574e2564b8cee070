import { describe, expect, it } from 'vitest';
import { planRollout } from './rollout.ts';
import type { DeploymentRow, ReplicaRow } from './schema.ts';

let seq = 0;
const dep = (over: Partial<DeploymentRow> = {}): DeploymentRow =>
  ({ id: 'dep_1', replicas: 2, revision: 2, status: 'active', canary: null, ...over }) as DeploymentRow;
const rep = (revision: number, state: string, nodeId = 'nod_a'): ReplicaRow =>
  ({
    id: `rep_${++seq}`,
    revision,
    state,
    nodeId,
    desired: 'run',
    createdAt: new Date(seq * 1000),
  }) as ReplicaRow;

describe('rollout plan', () => {
  it('scales up and down, retiring the least useful replicas first', () => {
    expect(planRollout(dep(), [rep(2, 'running')], new Set())).toEqual({ create: 1, stop: [] });
    const pending = rep(2, 'pending');
    const plan = planRollout(dep({ replicas: 1 }), [rep(2, 'running'), pending], new Set());
    expect(plan).toEqual({ create: 0, stop: [pending] });
  });

  it('rolls out one replica at a time: a new one only when every new one runs, an old one stops per new one running', () => {
    const old = [rep(1, 'running'), rep(1, 'running')];
    expect(planRollout(dep(), old, new Set())).toEqual({ create: 1, stop: [] });
    const starting = rep(2, 'starting');
    expect(planRollout(dep(), [...old, starting], new Set())).toEqual({ create: 0, stop: [] });
    const first = rep(2, 'running');
    const step = planRollout(dep(), [...old, first], new Set());
    expect(step.create).toBe(1);
    expect(step.stop).toHaveLength(1);
    expect(planRollout(dep(), [first, rep(2, 'running'), old[0]!], new Set()).stop).toEqual([old[0]]);
  });

  it('drains by starting every replacement at once and stopping nothing before it runs', () => {
    const onDrained = [rep(2, 'running', 'nod_x'), rep(2, 'running', 'nod_x')];
    expect(planRollout(dep(), onDrained, new Set(['nod_x']))).toEqual({ create: 2, stop: [] });
    const replacement = rep(2, 'running', 'nod_b');
    const plan = planRollout(
      dep(),
      [...onDrained, replacement, rep(2, 'scheduled', 'nod_b')],
      new Set(['nod_x']),
    );
    expect(plan.create).toBe(0);
    expect(plan.stop).toHaveLength(1);
  });

  it('runs a canary beside the old revision and stops everything of a deployment being deleted', () => {
    const old = [rep(1, 'running'), rep(1, 'running')];
    expect(planRollout(dep({ canary: { replicas: 1, weight: 10 } }), old, new Set())).toEqual({
      create: 1,
      stop: [],
    });
    expect(
      planRollout(dep({ canary: { replicas: 1, weight: 10 } }), [...old, rep(2, 'running')], new Set()),
    ).toEqual({ create: 0, stop: [] });
    expect(planRollout(dep({ status: 'deleting' }), old, new Set()).stop).toEqual(old);
  });
});
