import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

export type IdPrefix =
  | 'org'
  | 'prj'
  | 'usr'
  | 'mem'
  | 'ses'
  | 'key'
  | 'evt'
  | 'prv'
  | 'mdl'
  | 'ver'
  | 'req'
  | 'use'
  | 'prc'
  | 'bil'
  | 'bln'
  | 'lim'
  | 'ntf'
  | 'nod'
  | 'jtk'
  | 'dep'
  | 'rep';

/** Sortable, type-prefixed id: `key_01J…`. Sorting by id sorts by creation time. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${next().toLowerCase()}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return value.startsWith(`${prefix}_`) && /^[a-z]+_[0-9a-z]{26}$/.test(value);
}
