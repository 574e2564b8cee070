import type { ApiClient } from './api-client.ts';
import { CliError, EXIT } from './errors.ts';

export interface RefSpec {
  /** e.g. `project` */
  singular: string;
  /** e.g. `/api/v1/projects` */
  path: string;
  /** e.g. `prj` */
  idPrefix: string;
  /** the values a reference may match besides the id (name, slug, email, aliases) */
  names(row: any): unknown[];
}

export const looksLikeId = (prefix: string, ref: string) => new RegExp(`^${prefix}_[0-9a-z]{26}$`).test(ref);

/** Finds one row among `rows` by id or name; 404 (exit 4) if none, exit 2 if several. */
export function pick<T extends { id: string }>(spec: RefSpec, rows: T[], ref: string): T {
  const byId = rows.find((r) => r.id === ref);
  if (byId) return byId;
  const hits = rows.filter((r) =>
    spec.names(r).some((n) => n === ref || (Array.isArray(n) && n.includes(ref))),
  );
  if (hits.length === 1) return hits[0]!;
  // a revoked key keeps its name: the live one of the same name is meant
  const live = hits.filter((h) => (h as { status?: string }).status !== 'revoked');
  if (live.length === 1) return live[0]!;
  if (hits.length === 0)
    throw new CliError(`${spec.singular} "${ref}" not found`, EXIT.notFound, 'not_found');
  throw new CliError(
    `${hits.length} ${spec.singular}s match "${ref}" (${hits.map((h) => h.id).join(', ')}); use the id`,
    EXIT.usage,
    'ambiguous',
  );
}

/** The id of a resource given as an id or a name (names are looked up in the list). */
export async function resolveId(api: ApiClient, spec: RefSpec, ref: string): Promise<string> {
  if (looksLikeId(spec.idPrefix, ref)) return ref;
  return pick(spec, await api.list(spec.path), ref).id;
}

/** The resource itself, by id or name. */
export async function fetchOne<T = any>(api: ApiClient, spec: RefSpec, ref: string): Promise<T> {
  if (looksLikeId(spec.idPrefix, ref))
    return api.request<T>('GET', `${spec.path}/${encodeURIComponent(ref)}`);
  const row = pick(spec, await api.list(spec.path), ref);
  return api.request<T>('GET', `${spec.path}/${encodeURIComponent(row.id)}`);
}

export const refs = {
  org: { singular: 'org', path: '/api/v1/orgs', idPrefix: 'org', names: (r) => [r.slug, r.name] },
  project: { singular: 'project', path: '/api/v1/projects', idPrefix: 'prj', names: (r) => [r.name] },
  user: { singular: 'user', path: '/api/v1/users', idPrefix: 'usr', names: (r) => [r.email] },
  member: {
    singular: 'member',
    path: '/api/v1/memberships',
    idPrefix: 'mem',
    names: (r) => [r.email, r.user_id],
  },
  key: { singular: 'key', path: '/api/v1/keys', idPrefix: 'key', names: (r) => [r.name, r.prefix] },
  provider: { singular: 'provider', path: '/api/v1/providers', idPrefix: 'prv', names: (r) => [r.name] },
  model: { singular: 'model', path: '/api/v1/models', idPrefix: 'mdl', names: (r) => [r.name, r.aliases] },
  limit: { singular: 'limit', path: '/api/v1/limits', idPrefix: 'lim', names: () => [] },
} satisfies Record<string, RefSpec>;
