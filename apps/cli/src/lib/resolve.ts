import type { ApiItem, ApiListPath } from '@maas/contracts';
import type { ApiClient, CallOptions, PathOf, ResponseOf } from './api-client.ts';
import { CliError, EXIT } from './errors.ts';

/** The list paths whose items carry an `id`. */
export type ResourcePath = {
  [P in ApiListPath]: ApiItem<P> extends { id: string } ? P : never;
}[ApiListPath];

/** `P`: the list path of a resource (`/api/v1/projects`); one resource is `${P}/{id}`. */
export interface RefSpec<P extends ResourcePath = ResourcePath> {
  /** e.g. `project` */
  singular: string;
  /** e.g. `/api/v1/projects` */
  path: P;
  /** e.g. `prj` */
  idPrefix: string;
  /** the values a reference may match besides the id (name, slug, email, aliases) */
  names(row: ApiItem<P>): unknown[];
}

/** A RefSpec with its rows typed by its path. */
export const refSpec = <P extends ResourcePath>(spec: RefSpec<P>): RefSpec<P> => spec;

/** The path template of one resource of a list (`/api/v1/projects/{id}`), when it answers `M`. */
export type ItemPath<P extends ResourcePath, M extends 'GET' | 'PATCH' | 'DELETE' = 'GET'> = Extract<
  `${P}/{id}`,
  PathOf<M>
>;
export const itemPath = <P extends ResourcePath, M extends 'GET' | 'PATCH' | 'DELETE' = 'GET'>(
  spec: RefSpec<P>,
) => `${spec.path}/{id}` as ItemPath<P, M>;

/** `{ id }` as the params of an ItemPath (TypeScript cannot see the `{id}` through a generic path). */
export const idParams = <T extends string>(id: string) => ({ id }) as CallOptions<T>['params'];

/** The rows of a resource list: ResourcePath guarantees their `id`, which a generic `P` hides. */
async function listRows<P extends ResourcePath>(api: ApiClient, spec: RefSpec<P>) {
  return (await api.list(spec.path)) as (ApiItem<P> & { id: string })[];
}

export const looksLikeId = (prefix: string, ref: string) => new RegExp(`^${prefix}_[0-9a-z]{26}$`).test(ref);

/** Finds one row among `rows` by id or name; 404 (exit 4) if none, exit 2 if several. */
export function pick<T extends { id: string }, P extends ResourcePath>(
  spec: RefSpec<P>,
  rows: T[],
  ref: string,
): T {
  const byId = rows.find((r) => r.id === ref);
  if (byId) return byId;
  const hits = rows.filter((r) =>
    // rows are the list's items (ApiItem<P>), or a subset of their fields
    spec.names(r as unknown as ApiItem<P>).some((n) => n === ref || (Array.isArray(n) && n.includes(ref))),
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
export async function resolveId<P extends ResourcePath>(
  api: ApiClient,
  spec: RefSpec<P>,
  ref: string,
): Promise<string> {
  if (looksLikeId(spec.idPrefix, ref)) return ref;
  return pick(spec, await listRows(api, spec), ref).id;
}

/** The resource itself, by id or name. */
export async function fetchOne<P extends ResourcePath>(
  api: ApiClient,
  spec: RefSpec<P>,
  ref: string,
): Promise<ResponseOf<ItemPath<P>>> {
  const id = await resolveId(api, spec, ref);
  return api.request('GET', itemPath(spec), { params: idParams<ItemPath<P>>(id) });
}

export const refs = {
  org: refSpec({ singular: 'org', path: '/api/v1/orgs', idPrefix: 'org', names: (r) => [r.slug, r.name] }),
  project: refSpec({
    singular: 'project',
    path: '/api/v1/projects',
    idPrefix: 'prj',
    names: (r) => [r.name],
  }),
  user: refSpec({ singular: 'user', path: '/api/v1/users', idPrefix: 'usr', names: (r) => [r.email] }),
  member: refSpec({
    singular: 'member',
    path: '/api/v1/memberships',
    idPrefix: 'mem',
    names: (r) => [r.email, r.user_id],
  }),
  key: refSpec({ singular: 'key', path: '/api/v1/keys', idPrefix: 'key', names: (r) => [r.name, r.prefix] }),
  provider: refSpec({
    singular: 'provider',
    path: '/api/v1/providers',
    idPrefix: 'prv',
    names: (r) => [r.name],
  }),
  model: refSpec({
    singular: 'model',
    path: '/api/v1/models',
    idPrefix: 'mdl',
    names: (r) => [r.name, r.aliases],
  }),
  limit: refSpec({ singular: 'limit', path: '/api/v1/limits', idPrefix: 'lim', names: () => [] }),
};
