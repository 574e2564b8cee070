import { describe, expect, it } from 'vitest';
import type { ClaimRule } from '../sso-schema.ts';
import { claimAt, grantsFor } from './claim-mapping.ts';

const rules: ClaimRule[] = [
  { claim: 'groups', value: 'ml-admins', org_id: 'org_a', role: 'admin' },
  { claim: 'groups', value: 'ml-users', org_id: 'org_a', role: 'viewer' },
  { claim: 'realm_access.roles', value: 'ops', org_id: 'org_b', role: 'operator' },
  { claim: 'hd', value: 'example.com', org_id: 'org_c', role: 'viewer' },
  { claim: 'any', value: '*', org_id: 'org_d', role: 'viewer' },
];

describe('claim rules', () => {
  it('grants the highest role per org among matching rules', () => {
    const grants = grantsFor(rules, { groups: ['ml-users', 'ml-admins'] });
    expect(Object.fromEntries(grants)).toEqual({ org_a: 'admin', org_d: 'viewer' });
  });

  it('reads dotted paths and plain string claims', () => {
    const grants = grantsFor(rules, { realm_access: { roles: ['ops'] }, hd: 'example.com' });
    expect(Object.fromEntries(grants)).toEqual({ org_b: 'operator', org_c: 'viewer', org_d: 'viewer' });
    expect(claimAt({ a: { b: 1 } }, 'a.b')).toBe(1);
    expect(claimAt({ a: [1] }, 'a.0')).toBeUndefined();
  });

  it('matches nothing on a missing or differently typed claim', () => {
    expect(Object.fromEntries(grantsFor(rules.slice(0, 4), { groups: { 'ml-admins': true } }))).toEqual({});
  });
});
