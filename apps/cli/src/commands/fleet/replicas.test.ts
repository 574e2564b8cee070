import { describe, expect, it } from 'vitest';
import { newLines } from './replicas.ts';

describe('newLines (maas replicas logs -f)', () => {
  it('prints only what follows the lines already shown, whatever the window sizes', () => {
    expect(newLines(['c', 'd'], ['a', 'b', 'c', 'd', 'e', 'f'])).toEqual(['e', 'f']);
    expect(newLines(['a', 'b', 'c'], ['b', 'c', 'd'])).toEqual(['d']);
    expect(newLines(['a', 'b'], ['a', 'b'])).toEqual([]);
  });

  it('takes the last match of repeated lines, and everything when nothing matches or nothing was shown', () => {
    expect(newLines(['x'], ['x', 'y', 'x', 'z'])).toEqual(['z']);
    expect(newLines(['gone'], ['p', 'q'])).toEqual(['p', 'q']);
    expect(newLines([], ['p'])).toEqual(['p']);
  });
});
