import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { API_TYPES_PATH, renderApiTypes } from '../scripts/api-types.ts';

it('the checked-in API types are what the server publishes now (else run `npm run contracts:generate`)', async () => {
  const checkedIn = readFileSync(API_TYPES_PATH, 'utf8');
  const generated = await renderApiTypes();
  // a toBe on 460 kB would print both whole: name the first line that differs instead
  const a = checkedIn.split('\n');
  const b = generated.split('\n');
  const first = b.findIndex((line, i) => line !== a[i]);
  expect(first === -1 && a.length === b.length ? 'same' : `line ${first + 1}: ${b[first] ?? '(end)'}`).toBe(
    'same',
  );
}, 120_000);
