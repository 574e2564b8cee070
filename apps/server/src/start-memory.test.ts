import { getHeapSpaceStatistics } from 'node:v8';
import { expect, it } from 'vitest';
import { releaseStartMemory } from './start-memory.ts';

const youngGeneration = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

it('shrinks the young generation a start of surviving allocations grew', async () => {
  // what a start does: allocates fast, and much of it survives scavenges, so V8 grows the young generation
  const kept: unknown[] = [];
  for (let i = 0; i < 400_000; i++) kept.push({ i, name: `entry-${i}`, tags: [i, i + 1] });
  const grown = youngGeneration();
  await releaseStartMemory();
  expect(youngGeneration()).toBeLessThan(grown);
  expect(kept).toHaveLength(400_000);
});
